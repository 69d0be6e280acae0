"""The demo's second chapter: one desk in Slack and Teams, each against a local stand-in, and one ticket
opened in a Teams chat and worked from both."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from adapters.slack.demo import render as render_slack
from adapters.slack.demo import show, step
from adapters.slack.demo import text as slack_text
from adapters.slack.devkit.cards import version
from adapters.slack.devkit.prompts import open_prompt, submit_prompt
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.devkit.activities import TeamsActivities, TeamsUser, signed, teams_user
from adapters.teams.devkit.authority import APP_ID, APP_SECRET, TENANT_ID, IdentityProvider
from adapters.teams.devkit.cards import card_of, find_action
from adapters.teams.devkit.cards import version as teams_version
from adapters.teams.devkit.connector import BotConnector, personal_chat_id
from adapters.teams.devkit.tls import LocalCA
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer

CONFIG = Path(__file__).with_name("demo.yaml")
SECRET = "demo-signing-secret"
TEAMS_SUPPORT = "19:support@thread.tacv2"
SLACK_SUPPORT = "C0SUPPORT"
# The Teams team that holds the support channel; the desk needs only the channel.
TEAM = "19:team-support@thread.tacv2"
CUSTOMER, TOM, ALICE, STRANGER = (teams_user(n) for n in ("Cara Diaz", "Tom Ito", "Alice Ng", "Lee Ross"))
ALICE_IN_SLACK = "U0AGENT1"
ROLES = {
    CUSTOMER: "customer",
    TOM: "support agent, in Teams only",
    ALICE: "support agent, in Slack and Teams",
    STRANGER: "not of the support team",
}
CARD = "application/vnd.microsoft.card.adaptive"
# Long enough for a loaded machine, short enough that a broken story fails the demo quickly.
WAIT = 5.0
# What a step makes appear besides the cards: lines in either card's thread, news in the customer's chat.
THREADS = ("teams thread", "slack thread")
NEWS = (*THREADS, "chat")

T = TypeVar("T")


class TwoPlatforms:
    """Drives the desk as Teams and Slack would, and shows what each person sees on each."""

    def __init__(
        self, url: str, slack: SlackStandIn, connector: BotConnector, identity: IdentityProvider
    ) -> None:
        """Drive the desk served at `url`, watching the stand-ins it writes to."""
        self.url = url
        self.slack = slack
        self.connector = connector
        self.identity = identity
        self.activities = TeamsActivities(connector.service_url)
        self.requests = SlackRequests(SECRET)
        self._seen: dict[str, int] = {}
        self._drawn: dict[str, str] = {}
        self._sources: dict[str, Callable[[], list[str]]] = {
            "teams thread": self.teams_thread,
            "slack thread": self.slack_thread,
            "chat": lambda: self.chat(CUSTOMER),
        }

    def add_bot_to_team(self) -> None:
        """The team installs the app, which is how the bot learns the channel its cards go to."""
        activity = self.activities.bot_added_to_team(ALICE, TEAM, TEAMS_SUPPORT)
        activity["conversation"]["id"] = TEAMS_SUPPORT
        self.post(activity)

    def write(self, user: TeamsUser, typed: str) -> None:
        """`user` writes to the bot in their personal chat with it."""
        step(f"{who(user)} writes to the bot in their Teams personal chat: “{typed}”")
        self.post(self.activities.personal_message(user, typed))
        until(lambda: None not in self.versions(), "card in both #support channels")
        self.settle("teams", expect=("chat",))

    def press(self, user: TeamsUser, title: str, expect: tuple[str, ...] = ()) -> None:
        """`user` presses the button titled `title` on the Teams card; `expect` names what should follow."""
        step(f"{who(user)} presses {title} on the Teams card")
        card = until(self.teams_card, "card in Teams' #support")
        drawn = self.versions()
        action = find_action(card_of(card), title)
        answer = self.post(
            self.activities.card_action(user, TEAMS_SUPPORT, card["id"], action["data"], action["verb"])
        )
        if answer.get("statusCode") != 200:
            raise RuntimeError(f"the demo's story broke: the press was answered {answer}")
        if answer["type"] != CARD:
            show(f"{user.name} is told, and no one else sees it", teams_text(answer["value"]))
            if self.versions() != drawn:
                raise RuntimeError("the demo's story broke: a refused press changed the cards")
            return
        show(
            f"{user.name} sees the card redrawn at once, from the answer to the press", draw(answer["value"])
        )
        until(lambda: changed(drawn, self.versions()), "card redrawn in both #support channels")
        self.settle("teams", expect, pressed=answer["value"])

    def fill(
        self, person: TeamsUser, user: str, verb: str, label: str, typed: str, expect: tuple[str, ...] = ()
    ) -> None:
        """`person`, Slack user `user`, clicks the control that does `verb` on the Slack card and types
        `typed` into the form it opens."""
        step(f"{who(person)} clicks {label} on the Slack card and types “{typed}”")
        card = until(self.slack_card, "card in Slack's #support")
        drawn = self.versions()
        url = self.url + "/slack/events"
        form = open_prompt(url, self.slack, self.requests, card, verb, user=user, channel=SLACK_SUPPORT)
        answer = submit_prompt(url, self.requests, form, typed, user=user)
        if answer.status != 200:
            raise RuntimeError(f"the demo's story broke: Slack's click got HTTP {answer.status}")
        until(lambda: changed(drawn, self.versions()), "card redrawn in both #support channels")
        self.settle("slack", expect)

    def settle(self, first: str, expect: tuple[str, ...], pressed: dict[str, Any] | None = None) -> None:
        """Once what the step should bring has come, show what changed: where it was done first."""
        until(lambda: all(self._fresh(key) for key in expect), " and ".join(expect))
        # Whatever else the step sets off goes out with what was awaited; a moment lets it arrive.
        time.sleep(0.1)
        platforms = [lambda: self._show_teams(pressed), self._show_slack]
        for show_platform in platforms if first == "teams" else platforms[::-1]:
            show_platform()
        for note in self._news("chat"):
            show(f"{CUSTOMER.name} reads in their personal chat with the bot", teams_text(note))

    def _show_teams(self, pressed: dict[str, Any] | None) -> None:
        drawn = draw(card_of(until(self.teams_card, "card in Teams' #support")))
        if "teams" not in self._drawn:
            show("Teams #support gets the triage card", drawn)
        elif pressed is not None and drawn == draw(pressed):
            show("everyone in Teams #support", "sees that same card: the message is edited in place")
        elif drawn != self._drawn["teams"]:
            show("Teams #support sees the card edited in place", drawn)
        self._drawn["teams"] = drawn
        for note in self._news("teams thread"):
            show("the Teams card's thread gets a line", teams_text(note))

    def _show_slack(self) -> None:
        drawn = render_slack(slack_named(until(self.slack_card, "card in Slack's #support")))
        if "slack" not in self._drawn:
            show("Slack #support gets the same ticket's card", drawn)
        elif drawn != self._drawn["slack"]:
            show("Slack #support sees its card edited in place", drawn)
        self._drawn["slack"] = drawn
        for note in self._news("slack thread"):
            show("the Slack card's thread gets a line", slack_text(slack_named(note)))

    def _fresh(self, key: str) -> bool:
        return len(self._sources[key]()) > self._seen.get(key, 0)

    def _news(self, key: str) -> list[str]:
        """What `key` shows that was not shown yet, remembering that it now is."""
        items = self._sources[key]()
        seen, self._seen[key] = self._seen.get(key, 0), len(items)
        return items[seen:]

    def post(self, activity: dict[str, Any]) -> Any:
        """Post an activity to the desk as Teams does, with a token from the identity stand-in."""
        headers, body = signed(activity, self.identity)
        request = urllib.request.Request(
            self.url + "/api/messages", data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def chat(self, user: TeamsUser) -> list[str]:
        """What the bot wrote in its personal chat with `user`."""
        return [m.get("text", "") for m in self.connector.messages(personal_chat_id(user.user_id))]

    def teams_card(self) -> dict[str, Any] | None:
        """The card in Teams' #support (the only message there with an attachment)."""
        cards = [m for m in self.connector.messages(TEAMS_SUPPORT) if m.get("attachments")]
        return cards[-1] if cards else None

    def teams_thread(self) -> list[str]:
        """The lines in the Teams card's thread."""
        card = self.teams_card()
        thread = self.connector.messages(f"{TEAMS_SUPPORT};messageid={card['id']}") if card else []
        return [m.get("text", "") for m in thread]

    def slack_card(self) -> dict[str, Any] | None:
        """The card in Slack's #support (the only message there with blocks)."""
        cards = [m for m in self.slack.messages(SLACK_SUPPORT) if m.get("blocks")]
        return cards[-1] if cards else None

    def slack_thread(self) -> list[str]:
        """The lines in the Slack card's thread."""
        messages = self.slack.messages(SLACK_SUPPORT)
        return [m["text"] for m in messages if m.get("thread_ts") and m["ts"] != m["thread_ts"]]

    def versions(self) -> tuple[int | None, int | None]:
        """The ticket versions the Teams and the Slack card were drawn from."""
        teams, slack = self.teams_card(), self.slack_card()
        return (teams_version(card_of(teams)) if teams else None, version(slack) if slack else None)


def run_teams_chapter() -> None:
    """Serve a desk in Slack and Teams against local stand-ins and print one ticket's way through both."""
    print("\n\n══ Chapter 2: one desk in Slack and Teams ══\n")
    with (
        tempfile.TemporaryDirectory(prefix="chatops-demo-teams-") as workdir,
        LocalCA() as ca,
        trusting(ca),
        IdentityProvider(ca) as identity,
        BotConnector(ca, identity) as connector,
        SlackStandIn(
            users={ALICE_IN_SLACK: {"id": ALICE_IN_SLACK, "name": "alice", "real_name": ALICE.name}}
        ) as slack,
    ):
        settings = Settings(
            slack_bot_token="xoxb-demo",
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            database_url=f"sqlite:///{Path(workdir) / 'chatops.db'}",
            chatops_config=str(CONFIG),
            microsoft_app_id=APP_ID,
            microsoft_app_password=APP_SECRET,
            microsoft_app_tenant_id=TENANT_ID,
            teams_openid_metadata_url=identity.metadata_url,
            teams_token_authority=identity.oidc_authority,
        )
        server = BackgroundServer(lambda: build_web_app(build_desk(settings, load_desk_config(CONFIG))))
        server.start()
        try:
            print(
                f"A new desk serves {server.url}/api/messages for Teams and /slack/events for Slack.\n"
                f"Teams' Bot Connector ({connector.base_url}) and Microsoft's sign-in ({identity.base_url})\n"
                "are local stand-ins over HTTPS; each activity below bears a signed token the desk checks.\n"
                "Support's cards go to #support in both. Alice is one agent in both, Tom is in Teams only;\n"
                "Cara, the customer, is in no list of the desk's: her cards call her what Teams calls her."
            )
            story = TwoPlatforms(server.url, slack, connector, identity)
            # Teams names a channel to a bot only once the bot is added to its team.
            story.add_bot_to_team()
            story.write(CUSTOMER, "The export to PDF fails with error 500")
            story.press(TOM, "Assign to me", expect=NEWS)
            typed = "The PDF service needs the platform team"
            story.fill(ALICE, ALICE_IN_SLACK, "escalate", "Escalate to T2", typed, expect=THREADS)
            story.press(STRANGER, "Resolve")
            story.press(TOM, "Resolve", expect=NEWS)
        finally:
            server.stop()
    print(
        "\nThat was Teams: a ticket opened in a Teams chat, worked from Teams and Slack, both cards current."
    )


@contextlib.contextmanager
def trusting(ca: LocalCA) -> Iterator[None]:
    """The demo's certificate authority trusted by the desk's outbound TLS, as an operator would set it."""
    saved = {name: os.environ.get(name) for name in ca.environment}
    os.environ.update(ca.environment)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def until(probe: Callable[[], T | None], what: str) -> T:
    """What `probe` finds once it finds something; the story is broken if that takes too long."""
    deadline = time.monotonic() + WAIT
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"the demo's story broke: no {what} within {WAIT:g} s")
        time.sleep(0.02)


def changed(before: tuple[int | None, ...], now: tuple[int | None, ...]) -> bool:
    """Whether every card was redrawn since."""
    return all(b != n for b, n in zip(before, now, strict=True))


def who(user: TeamsUser) -> str:
    """A person's name and part in the story."""
    return f"{user.name} ({ROLES[user]})"


def slack_named(value: T) -> T:
    """A Slack message with its mention of Alice written as her name, as Slack shows it."""
    return json.loads(json.dumps(value).replace(f"<@{ALICE_IN_SLACK}>", f"@{ALICE.name}"))


def teams_text(markdown: str) -> str:
    """Teams markdown as a person reads it: mentions as names, dates in words, no escapes."""
    markdown = re.sub(r"<at>(.*?)</at>", r"@\1", markdown)
    # A card's moments are functions Teams evaluates in the reader's time zone; the demo's reader is in UTC.
    markdown = re.sub(
        r"\{\{DATE\((\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\dZ, SHORT\)\}\} \{\{TIME\([^)]*\)\}\}",
        r"\1 \2 UTC",
        markdown,
    )
    markdown = re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "").replace("\u00a0", " ")
    return markdown.replace("\n\n", "\n")


def draw(card: dict[str, Any]) -> str:
    """An Adaptive Card drawn as text: header, facts and texts, and its inputs and buttons where they sit."""
    lines: list[str] = []
    # Controls that sit one after another read as one row, as the Slack card's do.
    row: list[str] = []
    for node in card["body"]:
        kind = node.get("type")
        if kind in ("ColumnSet", "ActionSet"):
            row.extend(_controls(node))
            continue
        if row:
            lines.append(" ".join(row))
            row = []
        if kind == "TextBlock" and node.get("style") == "heading":
            lines.append(f"【 {teams_text(node['text'])} 】")
        elif kind == "TextBlock":
            lines.append(teams_text(node["text"]))
        elif kind == "FactSet":
            lines.extend(f"{teams_text(f['title'])}: {teams_text(f['value'])}" for f in node["facts"])
    row.extend(_controls({"actions": card.get("actions", [])}))
    return "\n".join(lines + [" ".join(row)] if row else lines)


def _controls(node: Any) -> list[str]:
    """The inputs and buttons within a part of a card, as `[Label ▾]` and `[Title]`."""
    if isinstance(node, list):
        return [drawn for item in node for drawn in _controls(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "Input.ChoiceSet":
        chosen = {c["value"]: c["title"] for c in node["choices"]}.get(node.get("value", ""))
        return [f"[{node['label']}: {chosen} ▾]" if chosen else f"[{node['label']} ▾]"]
    if node.get("type") == "Action.Execute":
        # An Apply button belongs to the input beside it, which already stands for both.
        return [] if node["title"] == "Apply" else [f"[{node['title']}]"]
    if node.get("type") == "Action.ShowCard":
        # A button that opens a box for words: the box and its own button stay folded until pressed.
        return [f"[{node['title']}…]"]
    return [drawn for key in ("columns", "items", "actions") for drawn in _controls(node.get(key, []))]
