"""Requests no Slack would send, or an attacker would: refused or answered plainly, never a 500 or a trace."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack.devkit.requests import FORM, JSON, Response, SignedRequest, SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from harness import SIGNING_SECRET, Probe, ServerProcess, fresh_database, settings_for, wait_until

SECRET_WORDS = "my card number is 4242 and the export fails"


@dataclass
class Desk:
    """`chatops serve` in a process of its own, its log, and the Slack it talks to."""

    server: ServerProcess
    log: Path
    standin: SlackStandIn
    probe: Probe
    requests: SlackRequests

    def send(self, request: SignedRequest) -> Response:
        return send(self.server.url + "/slack/events", request)

    def log_since(self, mark: int) -> str:
        return self.log.read_text()[mark:]

    def mark(self) -> int:
        return len(self.log.read_text())


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder = tmp_path_factory.mktemp("hostile")
    with SlackStandIn() as standin, fresh_database(folder) as url:
        log = folder / "serve.log"
        server = ServerProcess(settings_for(url, standin.base_url), log).start()
        probe = Probe(url)
        try:
            desk = Desk(server, log, standin, probe, SlackRequests(SIGNING_SECRET))
            answer = desk.send(desk.requests.slash_command("The export crashes", user_id="U0CUSTOMER"))
            assert answer.json()["text"].startswith("Ticket #1 opened")
            yield desk
        finally:
            server.terminate()
            probe.close()


def unchanged(desk: Desk) -> None:
    """Nothing a person would notice happened: one ticket, as it was opened, and nothing new to send."""
    tickets = desk.probe.tickets()
    assert [(t.id, t.version, t.status) for t in tickets] == [(1, 1, "triaged")]
    wait_until(desk.probe.pending_outbox, lambda n: n == 0, "the outbox to settle", 10)


def unsigned(body: bytes, content_type: str = FORM, **headers: str) -> SignedRequest:
    return SignedRequest(body, {"Content-Type": content_type, **headers})


STAMP = str(int(time.time()))
SIGNATURE = "v0=" + "0" * 64

UNSIGNED = {
    "a JSON list": unsigned(b"[1]", JSON),
    "JSON null": unsigned(b"null", JSON),
    "payload that is not JSON": unsigned(b"payload=not-json"),
    "raw bytes that are not UTF-8": unsigned(b"\xff\xfe\xfa"),
    "a bogus charset": unsigned(b"text=hi", FORM + "; charset=bogus-17"),
    "a timestamp of letters": unsigned(
        b"text=hi", X_Slack_Request_Timestamp="abc", X_Slack_Signature=SIGNATURE
    ),
    "a timestamp of 5,000 digits": unsigned(
        b"text=hi", X_Slack_Request_Timestamp="9" * 5000, X_Slack_Signature=SIGNATURE
    ),
    "a signature that is not ASCII": unsigned(
        b"text=hi", X_Slack_Request_Timestamp=STAMP, X_Slack_Signature="v0=" + "é" * 64
    ),
    "a signature over other bytes": unsigned(
        b"[1]", JSON, X_Slack_Request_Timestamp=STAMP, X_Slack_Signature=SIGNATURE
    ),
}


@pytest.mark.parametrize("case", list(UNSIGNED))
def test_anything_unsigned_is_refused_with_401_before_it_is_read(desk: Desk, case: str) -> None:
    request = UNSIGNED[case]
    headers = {k.replace("_", "-"): v for k, v in request.headers.items()}
    mark = desk.mark()

    answer = desk.send(SignedRequest(request.body, headers))

    assert answer.status == 401
    logged = wait_until(
        lambda: desk.log_since(mark), lambda text: "slack_request_refused" in text, "a log line"
    )
    assert "reason=" in logged and "Traceback" not in logged
    unchanged(desk)


def test_a_refused_request_is_logged_without_its_body(desk: Desk) -> None:
    forged = SlackRequests("not-the-secret").slash_command(SECRET_WORDS, user_id="U0CUSTOMER")
    mark = desk.mark()

    assert desk.send(forged).status == 401

    logged = wait_until(
        lambda: desk.log_since(mark), lambda text: "slack_request_refused" in text, "a log line"
    )
    assert "X-Slack-Signature does not match the body" in logged
    assert "card number" not in logged and "export" not in logged
    unchanged(desk)


def signed_payload(desk: Desk, payload: Any) -> SignedRequest:
    return desk.requests.sign(urlencode({"payload": json.dumps(payload)}).encode(), content_type=FORM)


def changed(payload: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The payload with some fields replaced, and those given as ... left out."""
    return {k: v for k, v in {**payload, **changes}.items() if v is not ...}


def card_click(desk: Desk, **changes: Any) -> dict[str, Any]:
    message = {
        "ts": "1700000000.000100",
        "text": "card",
        "blocks": [
            {
                "type": "actions",
                "block_id": "ticket_actions",
                "elements": [{"type": "button", "action_id": "chatops|1|claim|1", "value": "x"}],
            }
        ],
    }
    payload = desk.requests.block_action_payload(
        message["blocks"][0]["elements"][0], user_id="U0AGENT1", channel_id="C0SUPPORT", message=message
    )
    return changed(payload, changes)


def shortcut(desk: Desk, **changes: Any) -> dict[str, Any]:
    message = {
        "type": "message",
        "user": "U0CUSTOMER",
        "text": "The export crashes",
        "ts": "1700000000.000200",
    }
    payload = desk.requests.message_shortcut_payload(
        callback_id="chatops_create_ticket", user_id="U0AGENT1", channel_id="C0GENERAL", message=message
    )
    return changed(payload, changes)


def submission(desk: Desk, **changes: Any) -> dict[str, Any]:
    view = {"type": "modal", "callback_id": "chatops_ticket_form", "blocks": []}
    payload = desk.requests.view_submission_payload(view, user_id="U0CUSTOMER", values={})
    return changed(payload, changes)


def dm_event(desk: Desk, text: Any, *, ts: Any = ..., subtype: Any = ..., **envelope: Any) -> SignedRequest:
    """A DM event, its text, ts or subtype given, and fields of its envelope replaced."""
    event = desk.requests.direct_message_event("hi", user_id="U0CUSTOMER")
    event |= {k: v for k, v in {"text": text, "ts": ts, "subtype": subtype}.items() if v is not ...}
    body = desk.requests.event_payload(event) | envelope
    return desk.requests.sign(json.dumps(body).encode(), content_type=JSON)


# name -> (request builder, expected status, the words the log line must carry)
MALFORMED = {
    "a click with no user": (lambda d: signed_payload(d, card_click(d, user=...)), 200, "user is missing"),
    "a click with user null": (lambda d: signed_payload(d, card_click(d, user=None)), 200, "user is missing"),
    "a click with no actions": (
        lambda d: signed_payload(d, card_click(d, actions=[])),
        200,
        "actions is empty",
    ),
    "an action without action_id": (
        lambda d: signed_payload(d, card_click(d, actions=[{"type": "button"}])),
        200,
        "actions[0].action_id",
    ),
    "an action whose action_id is a number": (
        lambda d: signed_payload(d, card_click(d, actions=[{"type": "button", "action_id": 7}])),
        200,
        "actions[0].action_id",
    ),
    "a shortcut without user": (lambda d: signed_payload(d, shortcut(d, user=...)), 200, "user is missing"),
    "a shortcut without channel": (
        lambda d: signed_payload(d, shortcut(d, channel=...)),
        200,
        "channel is missing",
    ),
    "a shortcut on a message whose author is a number": (
        lambda d: signed_payload(
            d, shortcut(d, message={"type": "message", "user": 42, "text": "hi", "ts": "1.1"})
        ),
        200,
        "message.user is not a Slack id",
    ),
    "a form sent with user null": (
        lambda d: signed_payload(d, submission(d, user=None)),
        200,
        "user is missing",
    ),
    "a form sent with view null": (
        lambda d: signed_payload(d, submission(d, view=None)),
        200,
        "view is missing",
    ),
    "payload= that is not JSON": (
        lambda d: d.requests.sign(b"payload=%7Bnot-json", content_type=FORM),
        400,
        "payload= is not JSON",
    ),
    "payload= holding a list": (lambda d: signed_payload(d, [1, 2]), 400, "payload= is a JSON list"),
    "payload= holding a string": (lambda d: signed_payload(d, "hello"), 400, "payload= is a JSON str"),
    "an event body that is a list": (
        lambda d: d.requests.sign(b"[1]", content_type=JSON),
        400,
        "the JSON body is a JSON list",
    ),
    "a DM whose text is null": (lambda d: dm_event(d, None), 200, "event.text is null"),
    "a DM whose text is a number": (lambda d: dm_event(d, 42), 200, "event.text is not a string"),
    "signed bytes that are not UTF-8": (
        lambda d: d.requests.sign(b"text=\xff\xfe", content_type=FORM),
        400,
        "the body is not UTF-8",
    ),
    "a JSON body nested 100,000 deep": (
        lambda d: d.requests.sign(b"[" * 100_000 + b"]" * 100_000, content_type=JSON),
        400,
        "the JSON body is nested more than 64 deep",
    ),
    "payload= nested 100,000 deep": (
        lambda d: d.requests.sign(b"payload=" + b"%5B" * 100_000 + b"%5D" * 100_000, content_type=FORM),
        400,
        "payload= is nested more than 64 deep",
    ),
    "a JSON body holding NaN, which JSON has not": (
        lambda d: d.requests.sign(b'{"type": "event_callback", "event": NaN}', content_type=JSON),
        400,
        "the JSON body is not JSON",
    ),
    "a DM whose ts is a list": (
        lambda d: dm_event(d, "hi", ts=[]),
        200,
        "event.ts is not a message timestamp",
    ),
    "an event whose team is a list": (
        lambda d: dm_event(d, "hi", team_id=[1]),
        200,
        "team_id is not a Slack id",
    ),
    "an event whose first authorization is a list": (
        lambda d: dm_event(d, "hi", authorizations=[[1]]),
        200,
        "authorizations is not a list of objects",
    ),
    "a command for the form without its trigger": (
        lambda d: d.requests.sign(
            urlencode(
                changed(d.requests.slash_command_payload("", user_id="U0CUSTOMER"), {"trigger_id": ...})
            ).encode(),
            content_type=FORM,
        ),
        200,
        "trigger_id is missing",
    ),
    "a DM whose subtype is a list": (
        lambda d: dm_event(d, "hi", subtype=["x"]),
        200,
        "event.subtype is not a token",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_signed_but_malformed_request_is_answered_plainly_and_changes_nothing(
    desk: Desk, case: str
) -> None:
    build, status, problem = MALFORMED[case]
    mark = desk.mark()

    answer = desk.send(build(desk))

    assert answer.status == status
    logged = wait_until(
        lambda: desk.log_since(mark), lambda text: problem in text, f"a log line naming {problem!r}"
    )
    assert "Traceback" not in logged
    unchanged(desk)


def test_a_slash_command_slack_garbled_is_answered_to_the_person_who_typed_it(desk: Desk) -> None:
    fields = desk.requests.slash_command_payload("The export crashes", user_id="U0CUSTOMER")
    del fields["user_id"]

    answer = desk.send(desk.requests.sign(urlencode(fields).encode(), content_type=FORM))

    assert answer.status == 200
    assert answer.json() == {
        "response_type": "ephemeral",
        "text": "Slack sent this command in a form the desk could not read, so nothing was recorded. "
        "Please try again.",
    }
    unchanged(desk)
    assert "Traceback" not in desk.log.read_text()
