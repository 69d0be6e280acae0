"""`chatops demo`: the real server on SQLite against a local stand-in for Slack, driven through one story."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from adapters.slack.devkit.cards import control, verbs, version
from adapters.slack.devkit.prompts import open_prompt, submit_prompt
from adapters.slack.devkit.requests import FORM, SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer

CONFIG = Path(__file__).with_name("demo.yaml")
SECRET = "demo-signing-secret"
PEOPLE = {
    "U0CUSTOMER": "dana (customer)",
    "U0AGENT1": "alex (support agent)",
    "U0AGENT2": "sam (support agent)",
    "U0LEAD": "lee (team lead)",
    "U0BILL1": "bo (billing agent)",
    "U0VIP": "vic (VIP customer)",
}
SUPPORT = "C0SUPPORT"


class Story:
    """Drives the desk as Slack would, and shows what each person sees."""

    def __init__(self, standin: SlackStandIn, url: str) -> None:
        self.standin = standin
        self.url = url + "/slack/events"
        self.requests = SlackRequests(SECRET)
        self._seen_ephemerals = 0
        self._seen_dms = 0
        self._seen_notes = 0

    def command(self, user: str, typed: str) -> None:
        step(f"{name(user)} types `/ticket {typed}` in #general")
        fields = self.requests.slash_command_payload(typed, user_id=user)
        # As Slack does: a trigger id of its own (the desk takes a repeated one for a retry) and the person's
        # handle, which the desk calls them by where it cannot mention them.
        fields["user_name"] = name(user).split()[0]
        answer = send(self.url, self.requests.sign(urlencode(fields).encode(), content_type=FORM))
        show(f"{name(user)} sees (only they can see it)", text(answer.json()["text"]))

    def click(self, user: str, verb: str, label: str, *, dms: int = 0, **selected: Any) -> None:
        step(f"{name(user)} clicks {label} on the card")
        card = self.card()
        assert card is not None, "the story clicks only after the card is posted"
        action = control(card, verb)
        drawn = version(card)
        send(
            self.url,
            self.requests.block_action(action, user_id=user, channel_id=SUPPORT, message=card, **selected),
        )
        self.settle(drawn, dms=dms)

    def fill(self, user: str, verb: str, label: str, typed: str, *, dms: int = 0) -> None:
        """`user` presses `label` on the card, types `typed` into the form it opens, and sends it."""
        step(f"{name(user)} clicks {label} on the card and types “{typed}”")
        card = self.card()
        assert card is not None, "the story clicks only after the card is posted"
        drawn = version(card)
        form = open_prompt(self.url, self.standin, self.requests, card, verb, user=user, channel=SUPPORT)
        submit_prompt(self.url, self.requests, form, typed, user=user)
        self.settle(drawn, dms=dms)

    def answer(self, user: str, verb: str, label: str, *, replies: int = 1) -> None:
        """`user` presses `label` on the bot's latest question in their DMs, which `replies` DMs answer."""
        step(f"{name(user)} presses {label} in their DM")
        chat = "D" + user
        deadline = time.monotonic() + 5
        while not (asked := [m for m in self.standin.messages(chat) if verb in verbs(m)]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo's story broke: no question offering {label} came")
            time.sleep(0.02)
        card = self.card()
        drawn = version(card) if card is not None else None
        dms, notes = len(self.standin.messages(chat)), len(self._notes())
        send(
            self.url,
            self.requests.block_action(
                control(asked[-1], verb), user_id=user, channel_id=chat, message=asked[-1]
            ),
        )
        # An answer is thanked by DM and noted under the card: both are shown with the card they changed.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            len(self.standin.messages(chat)) < dms + replies or len(self._notes()) <= notes
        ):
            time.sleep(0.02)
        self.settle(drawn)

    def settle(self, drawn: int | None, *, dms: int = 0) -> None:
        """Wait until the bot has done what the last step asked (the card redrawn, and `dms` more direct
        messages to the customer, which go out at Slack's pace), then show what changed."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            card = self.card()
            refused = len(self.standin.ephemerals()) > self._seen_ephemerals
            told = len(self.standin.messages("DU0CUSTOMER")) >= self._seen_dms + dms
            if refused or (told and card is not None and (drawn is None or version(card) != drawn)):
                break
            time.sleep(0.02)
        time.sleep(0.2)
        card = self.card()
        if card is not None:
            show("#support sees the triage card", render(card))
        notes = self._notes()
        for note in notes[self._seen_notes :]:
            show("the card's thread gets a line", text(note["text"]))
        self._seen_notes = len(notes)
        ephemerals = self.standin.ephemerals()
        for whisper in ephemerals[self._seen_ephemerals :]:
            show(f"{name(whisper['user'])} sees (only they can see it)", text(whisper["text"]))
        self._seen_ephemerals = len(ephemerals)
        dms = self.standin.messages("DU0CUSTOMER")
        for dm in dms[self._seen_dms :]:
            show(f"{name('U0CUSTOMER')} gets a DM from the bot", text(dm["text"]))
        self._seen_dms = len(dms)

    def _notes(self) -> list[dict[str, Any]]:
        return [m for m in self.standin.messages(SUPPORT) if m.get("thread_ts") and m["ts"] != m["thread_ts"]]

    def card(self) -> dict[str, Any] | None:
        """The triage card in #support (the only message there with blocks)."""
        cards = [m for m in self.standin.messages(SUPPORT) if m.get("blocks")]
        return cards[-1] if cards else None


def run_demo() -> int:
    """Run the story and print it; returns the process exit code."""
    with (
        tempfile.TemporaryDirectory(prefix="chatops-demo-") as workdir,
        SlackStandIn(
            users={
                uid: {"id": uid, "name": label.split()[0], "real_name": label}
                for uid, label in PEOPLE.items()
            }
        ) as standin,
    ):
        settings = Settings(
            slack_bot_token="xoxb-demo",
            slack_signing_secret=SECRET,
            slack_api_url=standin.base_url,
            database_url=f"sqlite:///{Path(workdir) / 'chatops.db'}",
            chatops_config=str(CONFIG),
        )
        server = BackgroundServer(lambda: build_web_app(build_desk(settings, load_desk_config(CONFIG))))
        server.start()
        try:
            print(f"chatops demo: the desk serves {server.url}/slack/events on SQLite;")
            print(
                f"Slack's Web API is a local stand-in at {standin.base_url}. Every request below is signed.\n"
            )
            story = Story(standin, server.url)
            story.command("U0CUSTOMER", "The export button crashes with error 500, urgent")
            story.settle(None)
            story.click("U0AGENT1", "claim", "Assign to me", dms=1)
            story.fill("U0AGENT1", "escalate", "Escalate to T2", "The export needs the database team", dms=1)
            story.click("U0BILL1", "resolve", "Resolve (not their team)")
            story.click("U0AGENT1", "resolve", "Resolve", dms=2)
            story.answer("U0CUSTOMER", "solved", "Yes, close it", replies=2)
            story.answer("U0CUSTOMER", "rate-5", "5")
            story.command("U0CUSTOMER", "status 1")
        finally:
            server.stop()
    print(
        "\nThat was Slack: one ticket opened, triaged, assigned, escalated and resolved, then closed and "
        "rated by its customer, all from chat."
    )
    # Imported here, not above: the chapters import this module to draw their Slack side.
    from adapters.teams.demo import run_teams_chapter
    from integrations.jira.demo import run_jira_chapter

    run_teams_chapter()
    run_jira_chapter()
    return 0


def name(user: str) -> str:
    return PEOPLE.get(user, user)


def text(mrkdwn: str) -> str:
    """Slack mrkdwn as a person would read it: names for mentions, dates in plain words."""
    mrkdwn = re.sub(r"<@(\w+)>", lambda m: "@" + name(m.group(1)).split()[0], mrkdwn)
    mrkdwn = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", mrkdwn)
    mrkdwn = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", mrkdwn)
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(card: dict[str, Any]) -> str:
    """A card's blocks drawn as text."""
    lines: list[str] = []
    for block in card["blocks"]:
        kind = block["type"]
        if kind == "header":
            lines.append(f"【 {block['text']['text']} 】")
        elif kind == "section" and "fields" in block:
            for field in block["fields"]:
                label, _, value = field["text"].partition("\n")
                lines.append(f"{label.strip('*')}: {text(value)}".replace("\n", "; "))
        elif kind == "section":
            lines.append(text(block["text"]["text"]))
        elif kind == "actions":
            lines.append(" ".join(_control(e) for e in block["elements"]))
        elif kind == "context":
            lines.append(text(" ".join(e["text"] for e in block["elements"])))
    return "\n".join(lines)


def _control(element: dict[str, Any]) -> str:
    if element["type"] == "button":
        return f"[{element['text']['text']}]"
    if element["type"] == "users_select":
        return f"[{element['placeholder']['text']} ▾]"
    placeholder = element["placeholder"]["text"]
    chosen = element.get("initial_option", {}).get("text", {}).get("text", "")
    return f"[{placeholder}: {chosen} ▾]" if chosen else f"[{placeholder} ▾]"


def step(caption: str) -> None:
    print(f"\n▶ {caption}")


def show(who: str, body: str) -> None:
    print(f"  {who}:")
    for line in body.splitlines():
        print(f"    │ {line}")
