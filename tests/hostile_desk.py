"""A desk in Slack, Teams and Jira served by `chatops serve` in a process of its own, with its log and the
stand-ins it talks to, for tests that send its three endpoints what no platform would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jira_fixtures import JIRA_API_TOKEN, JIRA_USER, RULES, WEBHOOK_SECRET, jira_settings, with_jira
from teams_harness import ALICE, CUSTOMER, SUPPORT, TEAM, TEAMS_CONFIG, TOM, teams_settings

from adapters.slack.devkit.requests import JSON, Response, SignedRequest, SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.devkit.activities import TeamsActivities, signed
from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.connector import BotConnector
from adapters.teams.devkit.tls import LocalCA
from harness import SIGNING_SECRET, Probe, ServerProcess, fresh_database, wait_until
from integrations.jira.devkit.standin import JiraStandIn
from integrations.jira.devkit.webhooks import signature

SLACK, TEAMS, JIRA = "/slack/events", "/api/messages", "/jira/webhook"


@dataclass
class HostileDesk:
    """The served desk, its log, its database, and what each platform would send it."""

    server: ServerProcess
    log: Path
    probe: Probe
    slack: SlackRequests
    teams: TeamsActivities
    identity: IdentityProvider
    connector: BotConnector
    jira: JiraStandIn

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        """POST raw bytes; header values are sent as Latin-1, so any of its characters goes on the wire."""
        return send(self.server.url + path, SignedRequest(body, headers))

    def teams_post(self, activity: dict[str, Any], **mint: Any) -> Response:
        """Post an activity with a channel token made for its service URL."""
        headers, body = signed(activity, self.identity, **mint)
        return self.post(TEAMS, body, headers)

    def jira_post(self, event: Any) -> Response:
        """Post a webhook body signed with the webhook's secret, as Jira Cloud does."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        return self.post(JIRA, body, jira_headers(body))

    def mark(self) -> int:
        return len(self.log.read_text())

    def log_since(self, mark: int) -> str:
        return self.log.read_text()[mark:]

    def logged(self, mark: int, words: str) -> str:
        """The log written since `mark`, once it holds `words`."""
        return wait_until(lambda: self.log_since(mark), lambda text: words in text, f"{words!r} in the log")

    def state(self) -> tuple[dict[str, int], list[tuple[int, int, str, str | None]]]:
        """What a request could have changed: the rows of each table, and each ticket as it stands."""
        tickets = [(t.id, t.version, t.status, t.assignee) for t in self.probe.tickets()]
        return self.probe.rows(), tickets


def jira_headers(body: bytes) -> dict[str, str]:
    return {"Content-Type": JSON, "X-Hub-Signature": signature(WEBHOOK_SECRET, body)}


@contextmanager
def hostile_desk(folder: Path) -> Iterator[HostileDesk]:
    """The desk served in a process: ticket #1 opened from Teams, its card in the support channel, Tom (an
    agent) known to the bot, and the outbox carried out."""
    with ExitStack() as stack:
        ca = stack.enter_context(LocalCA())
        identity = stack.enter_context(IdentityProvider(ca))
        connector = stack.enter_context(BotConnector(ca, identity))
        slack = stack.enter_context(SlackStandIn())
        jira = stack.enter_context(JiraStandIn(user=JIRA_USER, api_token=JIRA_API_TOKEN))
        url = stack.enter_context(fresh_database(folder))
        config = with_jira(TEAMS_CONFIG, folder, categories={"bug": RULES["categories"]["bug"]})
        settings = teams_settings(
            url, slack.base_url, identity, chatops_config=str(config), **jira_settings(jira)
        )
        log = folder / "serve.log"
        server = ServerProcess(settings, log, environment=ca.environment).start()
        stack.callback(server.terminate)
        probe = Probe(url)
        stack.callback(probe.close)
        desk = HostileDesk(
            server,
            log,
            probe,
            SlackRequests(SIGNING_SECRET),
            TeamsActivities(connector.service_url),
            identity,
            connector,
            jira,
        )
        _open_a_ticket(desk)
        yield desk


def _open_a_ticket(desk: HostileDesk) -> None:
    added = desk.teams.bot_added_to_team(ALICE, TEAM, SUPPORT)
    added["conversation"]["id"] = SUPPORT
    assert desk.teams_post(added).status in (200, 202)
    assert desk.teams_post(desk.teams.installed_personal(TOM)).status in (200, 202)
    assert desk.teams_post(desk.teams.personal_message(CUSTOMER, "The export fails")).status in (200, 202)
    wait_until(desk.probe.tickets, lambda tickets: len(tickets) == 1, "ticket #1")
    wait_until(desk.probe.pending_outbox, lambda pending: pending == 0, "the outbox carried out", 15)
