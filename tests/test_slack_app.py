"""The Slack app as installed: the manifest matches what the bot does; Socket Mode serves the same desk."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack.app import SHORTCUT_CALLBACK
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from harness import CONFIG_PATH, SIGNING_SECRET, Probe, ServerProcess, Slack

MANIFEST = Path(__file__).resolve().parents[1] / "adapters" / "slack" / "manifest.yaml"

# The scopes each Web API method needs (as Slack documents them), for the places the bot uses them.
METHOD_SCOPES = {
    "auth.test": set(),
    "views.open": set(),
    "chat.getPermalink": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.open": {"im:write"},
    "users.info": {"users:read"},
}
HISTORY_SCOPE = {"C": "channels:history", "G": "groups:history", "D": "im:history"}


def test_the_manifest_asks_for_exactly_the_scopes_the_bot_uses(slack: Slack) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    # Every way in and every way out, with one DM and one card whose answers get lost, so both are looked up.
    slack.standin.inject("chat.postMessage", "server_error")
    slack.open_ticket("Export crashes every time")
    slack.card(1, timeout=10)
    slack.command("")
    slack.send(
        slack.requests.direct_message(
            "My login fails, <@U0AGENT1> knows", user_id="U0VIP", event_id="Ev9", encoded=True
        )
    )
    slack.dms("U0VIP", timeout=10)
    slack.click(1, "claim", user="U0AGENT1")
    slack.wait_thread(1, 1)
    # Resolving posts a thread note and two DMs to the requester (the news, then "did this solve it?"):
    # the first answers get lost, so each retry looks for its post first.
    slack.standin.inject("chat.postMessage", "server_error", times=3)
    slack.click(1, "resolve", user="U0AGENT1")
    slack.wait_thread(1, 2, timeout=10)
    slack.standin.wait_for("conversations.open", timeout=10)
    slack.click(1, "reopen", user="U0BILL1")
    original = slack.standin.messages("C0SUPPORT")[0]
    slack.send(
        slack.requests.message_shortcut(
            callback_id=SHORTCUT_CALLBACK, user_id="U0CUSTOMER", channel_id="C0SUPPORT", message=original
        )
    )
    slack.standin.wait_for("chat.getPermalink")
    slack.ephemerals("U0BILL1")

    used: set[str] = set()
    for call in slack.standin.calls():
        if call.method in ("conversations.history", "conversations.replies"):
            used.add(HISTORY_SCOPE[call.params["channel"][0]])
        else:
            used |= METHOD_SCOPES[call.method]
    assert {"conversations.history", "conversations.replies", "conversations.open", "users.info"} <= {
        c.method for c in slack.standin.calls()
    }

    # Beyond the calls: the command and shortcut need `commands`, DMs arriving as message.im events need
    # `im:history`, and team channels may be private, where history needs `groups:history`.
    # and reaction_added events need `reactions:read`.
    expected = used | {"commands", "im:history", "groups:history", "reactions:read"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == expected


def test_the_manifest_declares_the_command_shortcut_and_events_the_bot_listens_to() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    config = load_desk_config(CONFIG_PATH)

    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [config.slack.command]
    assert [(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]] == [
        ("message", SHORTCUT_CALLBACK)
    ]
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "message.im",
        "message.channels",
        "message.groups",
        "reaction_added",
    ]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True


def test_socket_mode_serves_the_same_desk(
    settings: Settings, standin: SlackStandIn, probe: Probe, tmp_path: Path
) -> None:
    server = ServerProcess(settings, tmp_path / "serve.log", "--socket-mode", app_token="xapp-test").start()
    try:
        standin.wait_socket_connected(timeout=20)
        payload = SlackRequests(SIGNING_SECRET).slash_command_payload(
            "Export crashes, urgent", user_id="U0CUSTOMER"
        )

        ack = standin.socket_request("slash_commands", payload, timeout=10)

        assert ack["payload"]["text"].startswith("Ticket #1 opened")
        assert probe.ticket(1).priority == "urgent"
        standin.wait_for(
            "chat.postMessage", where=lambda c: c.params.get("channel") == "C0SUPPORT", timeout=10
        )

        # Over the websocket too, a malformed request is answered plainly and changes nothing.
        garbled = {**payload, "user_id": None}
        assert standin.socket_request("slash_commands", garbled, timeout=10)["payload"]["text"].startswith(
            "Slack sent this command in a form the desk could not read"
        )
        click = {"type": "block_actions", "user": None, "actions": []}
        assert "payload" not in standin.socket_request("interactive", click, timeout=10)
        assert [t.id for t in probe.tickets()] == [1]
    finally:
        server.terminate()
    logged = (tmp_path / "serve.log").read_text()
    assert "slack_request_malformed" in logged and "user_id is missing" in logged
    assert "Traceback" not in logged
