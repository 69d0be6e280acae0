"""Random and mutated requests to every endpoint of a desk in Slack, Teams and Jira, served over HTTP:
whatever comes, never a 5xx or a traceback in the log, and nothing written for a request that does not
prove its sender. Each starts from what the platform sends, signed, then bytes are flipped, fields dropped
or given other types, values nested deep, content types and charsets changed, and headers given non-ASCII."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from hostile_desk import JIRA, SLACK, TEAMS, HostileDesk, hostile_desk, jira_headers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from teams_harness import CUSTOMER, SUPPORT, TOM

from adapters.slack.devkit.requests import FORM, JSON, Response, SlackRequests
from harness import SIGNING_SECRET, wait_until
from integrations.jira.devkit.webhooks import signature

# Few enough to run in seconds; the same examples on every run, so that a failure is one anyone can repeat.
EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NEST = "\x00nest\x00"
DROP = object()

# Header values go on the wire as Latin-1: every one of its printable characters can be sent.
LATIN1 = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**19, max_value=10**40)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "chatops|99999999999999999999|claim|1", "chatops|1|rate-\u00b2|1", "1" * 5000])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
CONTENT_TYPES = st.sampled_from(
    [
        JSON,
        JSON + "; charset=utf-8",
        JSON + "; charset=x-bogus",
        JSON + "; charset=utf-16",
        JSON + "; charset=\xe9",
        FORM,
        "text/plain",
        "",
        "multipart/form-data; boundary=x",
    ]
)


@dataclass(frozen=True)
class Base:
    """A request a platform sends: where it goes, what it says, and how that is put in bytes."""

    path: str
    document: Any
    encode: Callable[[Any], bytes]
    content_type: str


@dataclass(frozen=True)
class Target:
    """A served desk, and what its platforms send it (made once, so that every run draws alike)."""

    desk: HostileDesk
    bases: list[Base]


@dataclass(frozen=True)
class Sent:
    """One request as it goes on the wire."""

    path: str
    body: bytes
    headers: dict[str, str]


def as_json(document: Any) -> bytes:
    return json.dumps(document).encode()


def as_form(fields: Any) -> bytes:
    if not isinstance(fields, dict):
        return as_json(fields)
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}).encode()


def as_payload(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def bases(desk: HostileDesk) -> list[Base]:
    """What Slack, Teams and Jira send this desk, about its ticket #1 and the people it knows."""
    slack, teams = desk.slack, desk.teams
    button = {"type": "button", "action_id": "chatops|1|claim|1", "value": "x", "block_id": "ticket_actions"}
    card = {"ts": "1700000000.000100", "text": "card", "blocks": [{"type": "actions", "elements": [button]}]}
    click = slack.block_action_payload(button, user_id="U0AGENT1", channel_id="C0SUPPORT", message=card)
    menu = {"type": "external_select", "action_id": "chatops|1|move|1", "block_id": "ticket_actions"}
    search = slack.block_suggestion_payload(
        menu, user_id="U0AGENT1", channel_id="C0SUPPORT", message=card, value="bill"
    )
    dm = slack.event_payload(slack.direct_message_event("The export fails", user_id="U0CUSTOMER"))
    resolve = {"chatops": "chatops|1|resolve|1"}
    issue = {
        "key": "SUP-1",
        "fields": {
            "summary": "The export fails",
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "resolution": {"name": "Done"},
            "updated": "2026-11-28T06:49:19.000+0000",
        },
    }
    comment = {"id": "10001", "author": {"displayName": "Pat"}, "body": "[customer] Fixed"}
    message = {"type": "message", "user": "U0CUSTOMER", "text": "The export fails", "ts": "1700000000.000200"}
    shortcut = slack.message_shortcut_payload(
        callback_id="chatops_create_ticket", user_id="U0AGENT1", channel_id="C0GENERAL", message=message
    )
    return [
        Base(SLACK, slack.slash_command_payload("The export fails", user_id="U0CUSTOMER"), as_form, FORM),
        Base(SLACK, click, as_payload, FORM),
        Base(SLACK, search, as_payload, FORM),
        Base(SLACK, shortcut, as_payload, FORM),
        Base(SLACK, dm, as_json, JSON),
        Base(TEAMS, teams.personal_message(CUSTOMER, "The export fails"), as_json, JSON),
        Base(TEAMS, teams.channel_message(TOM, SUPPORT, "ticket list"), as_json, JSON),
        Base(TEAMS, teams.thread_reply(TOM, SUPPORT, "1700000000000", "Looking at it"), as_json, JSON),
        Base(
            TEAMS,
            teams.card_action(TOM, SUPPORT, "1700000000000", resolve, resolve["chatops"]),
            as_json,
            JSON,
        ),
        Base(JIRA, {"webhookEvent": "jira:issue_updated", "issue": issue}, as_json, JSON),
        Base(JIRA, {"webhookEvent": "comment_created", "issue": issue, "comment": comment}, as_json, JSON),
    ]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document, the whole of it first."""
    found = [prefix]
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        found += paths(child, (*prefix, key))
    return found


def replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of `document` with the part at `path` replaced by `new`, or left out if `new` is DROP."""
    if not path:
        return new
    changed = copy.deepcopy(document)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if new is DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return changed


@st.composite
def spoiled(draw: st.DrawFn, base: Base) -> bytes:
    """The base's body, as sent or with a part dropped, retyped or nested deep, then perhaps its bytes hit."""
    document = base.document
    path = draw(st.sampled_from(paths(document)))
    # Mostly one change at a time, so that most bodies get past the first check to the ones after it.
    change = draw(st.sampled_from(["none", "none", "drop", "retype", "retype", "nest"]))
    depth = draw(st.sampled_from([65, 1000, 100_000]))
    if change == "drop" and path:
        document = replaced(document, path, DROP)
    elif change == "retype":
        document = replaced(document, path, draw(JSON_VALUES))
    elif change == "nest":
        document = replaced(document, path, NEST)
    body = base.encode(document).replace(json.dumps(NEST).encode(), b"[" * depth + b"]" * depth)
    where = draw(st.integers(min_value=0, max_value=max(len(body) - 1, 0)))
    hit = draw(st.sampled_from(["none"] * 5 + ["flip", "cut", "insert"]))
    if hit == "flip" and body:
        body = body[:where] + bytes([draw(st.integers(0, 255))]) + body[where + 1 :]
    elif hit == "cut":
        body = body[:where]
    elif hit == "insert":
        body = body[:where] + draw(st.binary(min_size=1, max_size=4)) + body[where:]
    return body


@st.composite
def reheaded(draw: st.DrawFn, headers: dict[str, str], keep: frozenset[str]) -> dict[str, str]:
    """The headers, perhaps with another content type, one header gone, or non-ASCII in one (never `keep`)."""
    headers = dict(headers)
    if draw(st.integers(0, 3)) == 0:
        headers["Content-Type"] = draw(CONTENT_TYPES)
    names = sorted({*headers, "X-Slack-Retry-Num", "X-Atlassian-Webhook-Identifier", "User-Agent"} - keep)
    name = draw(st.sampled_from(names))
    change = draw(st.sampled_from(["none", "none", "drop", "non-ascii", "replace"]))
    if change == "drop":
        headers.pop(name, None)
    elif change == "non-ascii":
        headers[name] = headers.get(name, "") + "\xe9\xff"
    elif change == "replace":
        headers[name] = draw(LATIN1)
    return headers


def signed_headers(desk: HostileDesk, base: Base, body: bytes) -> dict[str, str]:
    """The headers the platform sends with `body`, proving it came from there."""
    if base.path == SLACK:
        return desk.slack.sign(body, content_type=base.content_type).headers
    if base.path == TEAMS:
        return {"Authorization": "Bearer " + desk.identity.mint(desk.teams.service_url), "Content-Type": JSON}
    return jira_headers(body)


CREDENTIALS = {
    SLACK: frozenset({"X-Slack-Signature", "X-Slack-Request-Timestamp"}),
    TEAMS: frozenset({"Authorization"}),
    JIRA: frozenset({"X-Hub-Signature"}),
}


@st.composite
def from_the_platforms(draw: st.DrawFn, target: Target) -> Sent:
    """A body changed as above, then signed as its platform signs it: proven, however odd."""
    base = draw(st.sampled_from(target.bases))
    body = draw(spoiled(base))
    headers = draw(reheaded(signed_headers(target.desk, base, body), CREDENTIALS[base.path]))
    return Sent(base.path, body, headers)


@st.composite
def from_strangers(draw: st.DrawFn, target: Target) -> Sent:
    """A request that proves nothing: random bytes, or a platform's body without, with a wrong or a garbled,
    or with a credential made for other bytes."""
    if draw(st.integers(0, 4)) == 0:
        path = draw(st.sampled_from([SLACK, TEAMS, JIRA]))
        names = st.sampled_from(["Content-Type", *sorted(CREDENTIALS[path])])
        headers = draw(st.dictionaries(names, LATIN1, max_size=3))
        return Sent(path, draw(st.binary(max_size=200)), headers)
    desk, base = target.desk, draw(st.sampled_from(target.bases))
    body = draw(spoiled(base))
    headers = {"Content-Type": base.content_type}
    forgery = draw(st.sampled_from(["none", "wrong", "garbled", "other bytes"]))
    if forgery == "wrong":
        headers |= wrong_credentials(desk, base.path, body, draw(st.integers(0, 3)))
    elif forgery == "garbled":
        for name in CREDENTIALS[base.path]:
            headers[name] = draw(LATIN1)
    elif forgery == "other bytes":
        headers = signed_headers(desk, base, body)
        if base.path != TEAMS:
            body += b" "
        else:
            # A channel token names the service URL it was made for; this activity names another.
            headers["Authorization"] = "Bearer " + desk.identity.mint("https://elsewhere.example/")
    path = base.path + ("?secret=guess" if base.path == JIRA and draw(st.booleans()) else "")
    return Sent(path, body, draw(reheaded(headers, CREDENTIALS[base.path])))


def wrong_credentials(desk: HostileDesk, path: str, body: bytes, which: int) -> dict[str, str]:
    """Credentials of the right form that do not prove the sender."""
    if path == SLACK:
        stale = int(time.time()) - 600 if which == 0 else None
        return (
            SlackRequests("not-the-secret" if which else SIGNING_SECRET)
            .sign(body, content_type=FORM, timestamp=stale)
            .headers
        )
    if path == TEAMS:
        bad = [{"signer": "foreign"}, {"expired": True}, {"audience": "someone-else"}, {"signer": "none"}]
        return {"Authorization": "Bearer " + desk.identity.mint(desk.teams.service_url, **bad[which])}
    return {"X-Hub-Signature": signature("not-the-secret", body)}


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with hostile_desk(tmp_path_factory.mktemp("signed")) as served:
        yield Target(served, bases(served))


@pytest.fixture(scope="module")
def strangers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A desk of its own, so that no signed request is still at work while strangers' are counted."""
    with hostile_desk(tmp_path_factory.mktemp("strangers")) as served:
        yield Target(served, bases(served))


def answered_plainly(desk: HostileDesk, sent: Sent) -> Response:
    """Send, and check the answer is no 5xx and the log holds no traceback."""
    mark = desk.mark()
    answer = desk.post(sent.path, sent.body, sent.headers)
    assert answer.status < 500, f"{answer.status}: {answer.text[:300]}"
    logged = desk.log_since(mark)
    assert "Traceback" not in logged, logged[-3000:]
    return answer


@EXAMPLES
@given(data=st.data())
def test_a_signed_request_however_odd_is_never_a_5xx_or_a_traceback(
    signed: Target, data: st.DataObject
) -> None:
    sent = data.draw(from_the_platforms(signed))

    answered_plainly(signed.desk, sent)


@EXAMPLES
@given(data=st.data())
def test_a_request_that_proves_nothing_is_refused_and_writes_nothing(
    strangers: Target, data: st.DataObject
) -> None:
    desk = strangers.desk
    before = desk.state()
    sent = data.draw(from_strangers(strangers))

    answer = answered_plainly(desk, sent)

    assert answer.status in (400, 401), f"{answer.status}: {answer.text[:300]}"
    assert desk.state() == before


def test_the_desks_served_the_examples_without_a_traceback(signed: Target, strangers: Target) -> None:
    for desk in (signed.desk, strangers.desk):
        # What the requests set going after their answers (cards, notes, calls to Jira) is carried out too.
        wait_until(desk.probe.pending_outbox, lambda pending: pending == 0, "the outbox carried out", 30)
        assert desk.server.process is not None and desk.server.process.poll() is None
        assert "Traceback" not in desk.log.read_text()
