"""The HTTP surface: Slack signatures, URL verification, health."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from adapters.slack.devkit.requests import SignedRequest, SlackRequests
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, Slack


def test_a_bad_signature_gets_401_and_changes_nothing(slack: Slack, probe: Probe) -> None:
    forged = SlackRequests("not-the-secret").slash_command("Export crashes", user_id="U0CUSTOMER")

    response = slack.send(forged)

    assert response.status == 401
    assert probe.tickets() == []


def test_a_stale_signature_gets_401_and_changes_nothing(slack: Slack, probe: Probe) -> None:
    stale = slack.requests.slash_command(
        "Export crashes", user_id="U0CUSTOMER", timestamp=int(time.time()) - 6 * 60
    )

    assert slack.send(stale).status == 401
    assert probe.tickets() == []


def test_a_body_changed_after_signing_gets_401(slack: Slack, probe: Probe) -> None:
    signed = slack.requests.slash_command("Export crashes", user_id="U0CUSTOMER")
    tampered = SignedRequest(signed.body.replace(b"U0CUSTOMER", b"U0LEAD"), signed.headers)

    assert slack.send(tampered).status == 401
    assert probe.tickets() == []


def test_url_verification_answers_the_challenge(slack: Slack) -> None:
    response = slack.send(slack.requests.url_verification("challenge-123"))

    assert response.status == 200
    assert response.json() == {"challenge": "challenge-123"}


def test_healthz_answers_when_the_database_does(served: BackgroundServer) -> None:
    with urllib.request.urlopen(served.url + "/healthz", timeout=5) as answer:
        assert answer.status == 200
        assert answer.read() == b'{"ok": true}'


def test_a_desk_without_teams_serves_no_teams_endpoint(served: BackgroundServer) -> None:
    request = urllib.request.Request(served.url + "/api/messages", data=b"{}", method="POST")

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)

    assert refused.value.code == 404
