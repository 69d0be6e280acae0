"""What no Teams or Jira would send, at the desk's edges: answered plainly (a 400 or 401, or the 200 the
platform wants) with one log line that leaves the body out; never a 500 or a traceback; nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hostile_desk import JIRA, TEAMS, HostileDesk, hostile_desk, jira_headers
from teams_harness import SUPPORT, TOM

from adapters.slack.devkit.requests import JSON, Response

SECRET_WORDS = "my card number is 4242"
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileDesk]:
    with hostile_desk(tmp_path_factory.mktemp("edges")) as served:
        yield served


def answered_plainly(desk: HostileDesk, send: Any, status: int, event: str) -> tuple[Response, str]:
    """Send, expect `status`, and the log line `event` without a traceback or the body; nothing written."""
    before = desk.state()
    mark = desk.mark()

    answer = send()

    assert answer.status == status, answer.text
    logged = desk.logged(mark, event)
    # Words, not the digits: a random id in the line may hold "4242".
    assert "Traceback" not in logged and "card number" not in logged
    assert desk.state() == before
    return answer, logged


def bearer(desk: HostileDesk) -> dict[str, str]:
    """A valid channel token for the activities' service URL."""
    return {"Authorization": "Bearer " + desk.identity.mint(desk.teams.service_url), "Content-Type": JSON}


def message(desk: HostileDesk) -> dict[str, Any]:
    return desk.teams.personal_message(TOM, SECRET_WORDS)


@pytest.mark.parametrize(
    ("path", "headers", "event"),
    [
        (TEAMS, {"Authorization": "Bearer \xe9\xe9.\xe9\xe9.\xe9\xe9"}, "teams_request_refused"),
        (TEAMS, {"Authorization": "B\xe9arer x.y.z"}, "teams_request_refused"),
        (JIRA, {"X-Hub-Signature": "sha256=" + "\xe9" * 64}, "jira_webhook_refused"),
    ],
    ids=["teams-token", "teams-scheme", "jira-signature"],
)
def test_a_credential_that_is_not_ascii_is_refused_with_401(
    desk: HostileDesk, path: str, headers: dict[str, str], event: str
) -> None:
    body = json.dumps(message(desk)).encode()

    answered_plainly(desk, lambda: desk.post(path, body, {**headers, "Content-Type": JSON}), 401, event)


@pytest.mark.parametrize(
    ("path", "headers", "event"),
    [
        (TEAMS, bearer, "teams_request_unreadable"),
        (JIRA, lambda _desk: jira_headers(DEEP), "jira_webhook_unreadable"),
    ],
    ids=["teams", "jira"],
)
def test_json_nested_too_deep_is_refused_with_400(
    desk: HostileDesk, path: str, headers: Callable[[HostileDesk], dict[str, str]], event: str
) -> None:
    answered_plainly(desk, lambda: desk.post(path, DEEP, headers(desk)), 400, event)


@pytest.mark.parametrize("charset", ["x-bogus", "utf-16", "latin-1"])
def test_a_charset_other_than_utf8_is_refused_with_400(desk: HostileDesk, charset: str) -> None:
    headers = {**bearer(desk), "Content-Type": f"application/json; charset={charset}"}
    body = json.dumps(message(desk)).encode()

    answer, logged = answered_plainly(
        desk, lambda: desk.post(TEAMS, body, headers), 400, "teams_request_unreadable"
    )
    assert "is not UTF-8" in answer.json()["error"]


@pytest.mark.parametrize("body", [b"[1, 2]", b"null", b'"hello"', b"42"])
def test_a_signed_jira_body_that_is_not_an_object_is_refused_with_400(desk: HostileDesk, body: bytes) -> None:
    answer, _ = answered_plainly(desk, lambda: desk.jira_post(body), 400, "jira_webhook_unreadable")
    assert "not an object" in answer.json()["error"]


def test_a_jira_body_that_is_not_utf8_is_refused_with_400(desk: HostileDesk) -> None:
    body = b'{"webhookEvent": "\xff"}'
    answered_plainly(desk, lambda: desk.post(JIRA, body, jira_headers(body)), 400, "jira_webhook_unreadable")


@pytest.mark.parametrize("identifier", ["\xe9t\xe9", "x" * 300, "two words"])
def test_a_signed_jira_delivery_whose_identifier_is_not_an_id_is_refused_with_400(
    desk: HostileDesk, identifier: str
) -> None:
    body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": "SUP-1"}}).encode()
    headers = {**jira_headers(body), "X-Atlassian-Webhook-Identifier": identifier}

    answered_plainly(desk, lambda: desk.post(JIRA, body, headers), 400, "jira_webhook_unreadable")


@pytest.mark.parametrize(
    "event",
    [
        {"webhookEvent": "comment_created", "issue": {"key": "SUP-1"}, "comment": {"id": "9" * 300}},
        {"webhookEvent": "comment_created", "issue": {"key": "SUP-1"}, "comment": {"id": {"n": 1}}},
        {"webhookEvent": "jira:issue_updated", "issue": {"key": "SUP-" + "1" * 300}},
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "SUP-1", "fields": {"status": {"name": "Done" * 30}, "summary": "x"}},
        },
    ],
    ids=["long-comment-id", "comment-id-object", "long-key", "long-status"],
)
def test_a_signed_jira_event_naming_what_no_jira_would_is_taken_and_ignored(
    desk: HostileDesk, event: dict[str, Any]
) -> None:
    answer, _ = answered_plainly(desk, lambda: desk.jira_post(event), 200, "jira_webhook_ignored")

    assert answer.json() == {"ok": True, "ignored": "unreadable"}


def without(activity: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in activity.items() if name not in names}


# name -> (how a signed message is spoiled, the problem the log line names)
MALFORMED = {
    "an empty conversation id": (
        lambda a: a | {"conversation": a["conversation"] | {"id": ""}},
        "conversation.id",
    ),
    "from as a string": (lambda a: a | {"from": SECRET_WORDS}, "from"),
    "text as an object": (lambda a: a | {"text": {"words": SECRET_WORDS}}, "text"),
    "no type": (lambda a: without(a, "type"), "type"),
    "no recipient": (lambda a: without(a, "recipient"), "recipient"),
    "a recipient without id": (lambda a: a | {"recipient": {"name": SECRET_WORDS}}, "recipient.id"),
    # Longer than the columns the ids are kept in: PostgreSQL would refuse them mid-turn.
    "an id longer than any of Teams'": (lambda a: a | {"id": "1" * 300}, "id is too long"),
    "a tenant longer than any of Teams'": (
        lambda a: a | {"conversation": a["conversation"] | {"tenantId": "t" * 100}},
        "conversation.tenantId",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_signed_activity_of_the_wrong_shape_is_refused_with_400_and_one_line(
    desk: HostileDesk, case: str
) -> None:
    spoil, problem = MALFORMED[case]
    activity = spoil(message(desk))

    answer, logged = answered_plainly(
        desk, lambda: desk.teams_post(activity), 400, "teams_activity_malformed"
    )

    assert answer.json() == {"error": "the body is not an activity"}
    [line] = [line for line in logged.splitlines() if line.strip()]
    assert f"problem='{problem}" in line


def card_action(desk: HostileDesk, packed: str) -> dict[str, Any]:
    """Tom presses a control naming `packed` on a card in the support channel."""
    return desk.teams.card_action(TOM, SUPPORT, "1700000000000", {"chatops": packed}, packed)


@pytest.mark.parametrize(
    "packed",
    [
        "chatops|99999999999999999999|claim|1",
        "chatops|1|claim|99999999999999999999",
        "chatops|2147483648|claim|1",
        "chatops|\u0661|claim|1",
        "chatops|+1|claim|1",
        "chatops|1|claim|1_0",
        "chatops|-1|claim|1",
    ],
)
def test_a_control_naming_a_number_the_desk_cannot_hold_is_not_one_it_knows(
    desk: HostileDesk, packed: str
) -> None:
    answer, _ = answered_plainly(
        desk, lambda: desk.teams_post(card_action(desk, packed)), 200, "teams_action_unknown"
    )

    assert answer.json()["value"] == "This control is not one the desk knows."


@pytest.mark.parametrize("verb", ["rate-\u00b2", "rate-\u0663", "rate-"])
def test_a_rating_that_is_not_ascii_digits_is_an_action_the_desk_does_not_know(
    desk: HostileDesk, verb: str
) -> None:
    before = desk.state()
    mark = desk.mark()

    answer = desk.teams_post(card_action(desk, f"chatops|1|{verb}|1"))

    assert answer.status == 200
    assert answer.json()["value"] == f"This card offers an action ({verb!r}) the desk does not know."
    assert "Traceback" not in desk.log_since(mark)
    assert desk.state() == before
