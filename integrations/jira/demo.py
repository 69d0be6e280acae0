"""The demo's third chapter: the desk with Jira, against local stand-ins for Slack and Jira; a bug becomes an
issue, two customers' requests join the product team's issue, and its shipping in Jira reaches them both."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from adapters.slack.demo import CONFIG, PEOPLE, SECRET, SUPPORT, Story, name, render, show, step, text
from adapters.slack.devkit.cards import control
from adapters.slack.devkit.requests import send
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.demo import until
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from integrations.jira.devkit.issues import PERSON
from integrations.jira.devkit.standin import JiraStandIn
from integrations.jira.devkit.webhooks import Delivery

PRODUCT = "C0PRODUCT"
CUSTOMERS = ("U0CUSTOMER", "U0VIP")
AGENT = "U0AGENT1"
JIRA_USER = "desk-bot@example.com"
JIRA_API_TOKEN = "demo-jira-api-token"
WEBHOOK_SECRET = "demo-jira-webhook-secret"
# What the demo desk's rules gain for this chapter, as an operator would write it.
RULES = """
jira:
  categories:
    bug: {project: SUP, issue_type: Bug, labels: [from-support]}
    feedback: {project: PROD, issue_type: Story, labels: [customer-feedback], hold: 10m}
  status_map: {Done: resolved, "In Progress": in_progress, "Won't Do": closed}
  public_comment_prefix: "[customer]"
product:
  slack_channel: C0PRODUCT
"""
# A description opens with the requester's words and where they came from; that is what a reader needs.
DESCRIPTION_LINES = 6
# Whatever else a step sets off goes out with what it awaits; a moment lets it arrive before it is shown.
GRACE = 0.2

T = TypeVar("T")


class JiraStory(Story):
    """Chapter 1's story with Jira beside Slack: every ticket's card, #product, the customers' DMs, Jira."""

    def __init__(self, standin: SlackStandIn, url: str, jira: JiraStandIn) -> None:
        """Drive the desk served at `url`, watching the Slack and Jira stand-ins it writes to."""
        super().__init__(standin, url)
        self.jira = jira
        # What each card and issue was last shown as, and how much of each list: a step shows what it changed.
        self._drawn: dict[str, str] = {}
        self._seen: dict[str, int] = {}

    def pick(self, user: str, number: int, verb: str, label: str, value: str) -> None:
        """`user` picks the option worth `value` in the `label` menu of ticket `number`'s card."""
        card = until(lambda: self.card_of(number), f"#{number}'s card")
        menu = control(card, verb)
        option = next(o for o in menu["options"] if o["value"] == value)
        step(f"{name(user)} picks “{option['text']['text']}” in the {label} menu on #{number}'s card")
        action = self.requests.block_action(
            menu, user_id=user, channel_id=SUPPORT, message=card, selected_option=option
        )
        answer = send(self.url, action)
        if answer.status != 200:
            raise RuntimeError(f"the demo's story broke: the pick got HTTP {answer.status}")

    def after(self, what: str, done: Callable[[], bool]) -> None:
        """Once `done` holds, show what changed: cards and threads, private answers, Jira, #product, DMs."""
        until(done, what)
        time.sleep(GRACE)
        for card in self.cards():
            number = _key(card).split("-")[1]
            self._redrawn(f"#{number}", "#support", f"#{number}'s card", draw(card))
            for line in self._news(f"thread {number}", self.thread(card)):
                show(f"#{number}'s thread gets a line", text(line))
        for whisper in self._news("ephemerals", self.standin.ephemerals()):
            show(f"{name(whisper['user'])} sees (only they can see it)", text(whisper["text"]))
        for issue in self.jira.issues():
            if issue["key"] not in self._drawn:
                show(f"Jira has {issue['key']}, made by {issue['reporter']}", issue_text(issue))
                self._drawn[issue["key"]] = issue["status"]
            for comment in self._news(f"comments {issue['key']}", issue["comments"]):
                said = jira_text(comment["body"])
                show(f"Jira's {issue['key']} gets a comment from {comment['author']}", said)
        for card in self.product_cards():
            self._redrawn(f"product {card['ts']}", "#product", "the product team's card", draw(card))
        for user in CUSTOMERS:
            for dm in self._news(f"dms {user}", self.dms(user)):
                show(f"{name(user)} gets a DM from the bot", text(dm))

    def _redrawn(self, key: str, where: str, what: str, drawn: str) -> None:
        """Show a card that is new or drawn otherwise than it was last shown."""
        before, self._drawn[key] = self._drawn.get(key), drawn
        if before is None:
            show(f"{where} gets {what}", drawn)
        elif drawn != before:
            show(f"{where} sees {what} edited in place", drawn)

    def _news(self, source: str, items: list[T]) -> list[T]:
        """What `source` holds that was not shown yet, remembering that it now is."""
        seen, self._seen[source] = self._seen.get(source, 0), len(items)
        return items[seen:]

    def cards(self) -> list[dict[str, Any]]:
        """The tickets' cards in #support, oldest first."""
        return [m for m in self.standin.messages(SUPPORT) if re.fullmatch(r"ticket-\d+-card", _key(m))]

    def card_of(self, number: int) -> dict[str, Any] | None:
        """Ticket `number`'s card in #support, once it is posted."""
        return next((c for c in self.cards() if _key(c) == f"ticket-{number}-card"), None)

    def thread(self, card: dict[str, Any] | None) -> list[str]:
        """The lines in a card's thread."""
        messages = self.standin.messages(SUPPORT) if card else []
        return [m["text"] for m in messages if card and card["ts"] == m.get("thread_ts") != m["ts"]]

    def shows(self, number: int, *texts: str) -> bool:
        """Whether ticket `number`'s card reads every one of `texts`."""
        card = self.card_of(number)
        return card is not None and all(t in draw(card) for t in texts)

    def told(self, number: int, words: str) -> bool:
        """Whether a line in ticket `number`'s thread says `words`."""
        return any(words in line for line in self.thread(self.card_of(number)))

    def product_cards(self) -> list[dict[str, Any]]:
        """The product team's cards in #product."""
        return [m for m in self.standin.messages(PRODUCT) if m.get("blocks")]

    def dms(self, user: str) -> list[str]:
        """What the bot wrote to `user` in their DM with it."""
        return [m["text"] for m in self.standin.messages("D" + user)]

    def comments(self, key: str) -> int:
        """How many comments Jira's issue `key` has."""
        return len(self.jira.issue(key)["comments"])

    def webhook(self, key: str) -> None:
        """Show the signed webhook that told the desk `key` changed status, once the desk has taken it."""
        found = until(lambda: [d for d in self.jira.deliveries() if d.key == key and _moved(d)], "webhook")
        show("Jira sends the desk a webhook, signed with the secret they share", webhook_text(found[-1]))


def run_jira_chapter() -> None:
    """Serve a desk with Jira against local stand-ins and print a bug's and two requests' way through it."""
    print("\n\n══ Chapter 3: Jira and the product team ══\n")
    users = {uid: {"id": uid, "name": label.split()[0], "real_name": label} for uid, label in PEOPLE.items()}
    with (
        tempfile.TemporaryDirectory(prefix="chatops-demo-jira-") as workdir,
        SlackStandIn(users=users) as slack,
        JiraStandIn(user=JIRA_USER, api_token=JIRA_API_TOKEN) as jira,
    ):
        rules = Path(workdir) / "desk.yaml"
        rules.write_text(CONFIG.read_text() + RULES)
        settings = Settings(
            slack_bot_token="xoxb-demo",
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            database_url=f"sqlite:///{Path(workdir) / 'chatops.db'}",
            chatops_config=str(rules),
            jira_url=jira.base_url,
            jira_user=JIRA_USER,
            jira_api_token=JIRA_API_TOKEN,
            jira_webhook_secret=WEBHOOK_SECRET,
            jira_timeout=2.0,
        )
        server = BackgroundServer(lambda: build_web_app(build_desk(settings, load_desk_config(rules))))
        server.start()
        try:
            jira.send_webhooks(server.url + "/jira/webhook", secret=WEBHOOK_SECRET)
            print(
                f"A new desk serves {server.url}/slack/events for Slack and /jira/webhook for Jira.\n"
                f"Jira is a local stand-in at {jira.base_url}: the desk calls its REST API as a\n"
                "bot account, and Jira's webhooks come back signed with a secret the desk checks.\n"
                "The rules send bugs to Jira's SUP project and feedback to PROD, the product team's,\n"
                "who see feedback's cards in #product. Feedback waits 10 minutes for its issue, so\n"
                "that an agent can merge a request onto one the product team already has."
            )
            tell(JiraStory(slack, server.url, jira))
        finally:
            server.stop()
    print(
        "\nThat was Jira: a bug filed as an issue, two requests merged onto the product team's, "
        "and each customer told once when it shipped."
    )


def tell(story: JiraStory) -> None:
    """The chapter's story, step by step."""
    story.command("U0CUSTOMER", "The PDF export crashes with error 500")
    story.after(
        "SUP-1 on #1's card and in its thread",
        lambda: story.shows(1, "Jira: SUP-1 (") and story.told(1, "Jira issue created"),
    )
    step(f"{PERSON}, of the product team, already has an issue in Jira for PDF exports")
    story.jira.add_issue("PROD", "Export reports to PDF")
    story.after("PROD-1 in Jira", lambda: True)
    story.command("U0CUSTOMER", "Feature request: export my reports to PDF")
    story.after("#2's card", lambda: story.card_of(2) is not None)
    story.command(AGENT, "link 2 PROD-1")
    story.after(
        "#2 linked, the comment in Jira and the product team's card",
        lambda: (
            story.shows(2, "PROD-1 (")
            and story.told(2, "linked the ticket to PROD-1")
            and story.comments("PROD-1") == 1
            and bool(story.product_cards())
        ),
    )
    story.command("U0VIP", "Feedback: would be nice to export to PDF")
    story.after("#3's card", lambda: story.card_of(3) is not None)
    story.pick(AGENT, 3, "merge", "Merge onto…", "PROD-1")
    story.after(
        "#3 merged, the second comment in Jira and the product team's card counting two",
        lambda: (
            story.shows(3, "PROD-1 (")
            and story.told(3, "merged the ticket onto PROD-1")
            and story.comments("PROD-1") == 2
            and "Requesters: 2" in draw(story.product_cards()[0])
        ),
    )
    step(f"{PERSON} moves PROD-1 to Done in Jira")
    story.jira.set_status("PROD-1", "Done")
    story.webhook("PROD-1")
    story.after(
        "both tickets resolved, both customers told and the product card saying so",
        lambda: (
            all(story.shows(n, "Status: Resolved", "shipped") for n in (2, 3))
            and all(story.told(n, "moved to Done") for n in (2, 3))
            and all(any("has shipped" in dm for dm in story.dms(u)) for u in CUSTOMERS)
            and "shipped" in draw(story.product_cards()[0])
        ),
    )


def draw(card: dict[str, Any]) -> str:
    """A card drawn as text, as chapter 1 draws one, without the blank line a body may end with."""
    return "\n".join(line for line in render(card).splitlines() if line.strip())


def issue_text(issue: dict[str, Any]) -> str:
    """An issue as Jira shows it: summary, type, status and labels, and its description's first lines."""
    lines = [
        f"【 {issue['key']} {issue['summary']} 】",
        f"{issue['issuetype']} · {issue['status']} · labels: {', '.join(issue['labels']) or 'none'}",
    ]
    if issue["description"]:
        lines += jira_text(issue["description"]).splitlines()[:DESCRIPTION_LINES]
    return "\n".join(lines)


def jira_text(markup: str) -> str:
    """Jira's wiki markup as a person reads it on the issue: no markers, links as their text and address."""
    # Inside {noformat} the requester's words stand exactly as written.
    parts = markup.split("{noformat}")
    shown = "".join(part.strip("\n") + "\n" if i % 2 else _unmarked(part) for i, part in enumerate(parts))
    return "\n".join(line for line in shown.splitlines() if line.strip())


def _unmarked(markup: str) -> str:
    markup = re.sub(r"^----$", "─" * 12, markup, flags=re.MULTILINE)
    markup = re.sub(r"\[([^|\]]+)\|([^\]]+)\]", r"\1 (\2)", markup)
    markup = re.sub(r"\*([^*\n]+)\*", r"\1", markup)
    return re.sub(r"\\(.)", r"\1", markup)


def webhook_text(delivery: Delivery) -> str:
    """A status change's webhook as a line: the event, what moved, and the desk's answer."""
    items = delivery.json().get("changelog", {}).get("items", [])
    moved = next(i for i in items if i.get("field") == "status")
    return (
        f"{delivery.event} for {delivery.key}: status {moved['fromString']} → {moved['toString']}\n"
        f"the desk checks the signature and answers HTTP {delivery.status}"
    )


def _moved(delivery: Delivery) -> bool:
    """A delivery the desk took that says an issue changed status."""
    items = (delivery.json().get("changelog") or {}).get("items", [])
    return delivery.ok and any(i.get("field") == "status" for i in items)


def _key(message: dict[str, Any]) -> str:
    """The key the desk gave a message it posted ("ticket-2-card"), or "" for any other."""
    return str(((message.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
