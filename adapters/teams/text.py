"""Neutral rich text rendered as the markdown Teams shows, with the mention entities its mentions need.

Teams reads a TextBlock (and a FactSet fact, and a markdown message) as a subset of CommonMark: bold,
italic, lists and links, plus `<at>…</at>` tags that become mentions when the card or message carries a
matching mention entity, and, in cards, `{{DATE(…)}}`/`{{TIME(…)}}` functions that it evaluates before
any markdown. Everyone's words are escaped once here so that what they typed is what people see: a
customer's `**hi**` stays two asterisks and a word, their `<at>Bob</at>` pings nobody, and their
`{{DATE(…)}}` is not a function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from chatops.people.directory import Directory
from chatops.rich import Bullets, Code, Link, Mention, Moment, Rich, Strong

TEAMS = "teams"

# Characters that start or end markdown anywhere in a line: emphasis, strikethrough, code, links and
# images, tables, HTML and mention tags, entity references, and the escape character itself.
_ANYWHERE = re.compile(r"([\\*_`~\[\]|<>&])")
# Markers that mean something only at the start of a line and before a blank (or a run of themselves):
# headings, list items, rules and setext underlines. `#42 is down` is no heading and keeps its `#`.
_LINE_START = re.compile(r"^(#|[-+=])(?=[ \t]|$|\1)", re.MULTILINE)
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)", re.MULTILINE)
# Four leading spaces make an indented code block, where escapes show as backslashes; leading blanks
# become no-break spaces, which keep the indent without meaning anything to markdown.
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
# Teams evaluates `{{DATE(...)}}` and `{{TIME(...)}}` before markdown, so a backslash cannot stop it;
# an invisible zero-width space between the braces does, on every client.
_DOUBLE_BRACE = re.compile(r"\{(?=\{)")
_ZERO_WIDTH = "\u200b"
# Inside a code span markdown escapes are not read, so a mention tag there is broken the same way.
_AT_TAG = re.compile(r"<(?=/?at\b)", re.IGNORECASE)
_URL_SCHEMES = ("https://", "http://", "mailto:")


def unbrace(text: str) -> str:
    """Text with every `{{` broken, so Teams evaluates no date or time function a person typed."""
    return _DOUBLE_BRACE.sub("{" + _ZERO_WIDTH, text)


def escape(text: str, *, line_start: bool = True) -> str:
    """Someone's words as Teams markdown that shows them exactly as typed, line breaks included.

    `line_start` says whether the text begins a line, where list and heading markers count.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANYWHERE.sub(r"\\\1", text)
    if not line_start:
        # Only the lines after the first begin a line; the first continues what came before it.
        first, newline, rest = text.partition("\n")
        return unbrace(first + "\n\n" + _line_starts(rest)) if newline else unbrace(text)
    return unbrace(_line_starts(text))


def _line_starts(text: str) -> str:
    text = _INDENT.sub(lambda m: "\u00a0" * len(m.group()), text)
    text = _LINE_START.sub(r"\\\1", text)
    text = _ORDERED.sub(r"\1\\\2", text)
    # A single newline is a soft break, shown as a space; Teams asks for a blank line to break a line.
    return text.replace("\n", "\n\n")


def code_span(text: str) -> str:
    """Text in backticks, long enough a run of them that any backticks inside stay literal."""
    text = " ".join(text.replace("\r", "\n").split("\n"))
    text = unbrace(_AT_TAG.sub("<" + _ZERO_WIDTH, text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # A span that begins or ends with a backtick needs a space so the fence is told apart from it.
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def moment_in_card(at: datetime) -> str:
    """A moment as Adaptive Card date and time functions, which Teams shows in the reader's time zone."""
    stamp = _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def moment_in_message(at: datetime) -> str:
    """A moment as words, in UTC, where Teams evaluates no date function."""
    return _utc(at).strftime("%Y-%m-%d %H:%M UTC")


def _utc(at: datetime) -> datetime:
    # The desk stores UTC; a naive moment is one of those.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def safe_url(url: str) -> str | None:
    """A URL fit for a markdown link, or None when it is not one people should be sent to."""
    url = url.strip()
    if not url.lower().startswith(_URL_SCHEMES):
        return None
    # Characters that would end the link's target early, or open a tag, travel percent-encoded.
    return quote(url, safe="/:?#@!$&'*+,;=%-._~[]")


@dataclass
class Mentions:
    """The mention entities a card or message must carry: one per person, each with its own tag."""

    _by_user: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tag(self, user: str, name: str) -> str:
        """The `<at>` tag that mentions a Teams user, recording the entity it needs."""
        known = self._by_user.get(user)
        if known is None:
            label = unbrace(name.replace("<", "").replace(">", "")).strip() or user
            # Teams matches a tag to its entity by the tag's text, so two people never share one.
            taken = {entity["text"] for entity in self._by_user.values()}
            tag, n = f"<at>{label}</at>", 2
            while tag in taken:
                tag, n = f"<at>{label} ({n})</at>", n + 1
            known = {"type": "mention", "text": tag, "mentioned": {"id": user, "name": name}}
            self._by_user[user] = known
        return known["text"]

    def entities(self) -> list[dict[str, Any]]:
        """The mention entities, in the order the people were first mentioned."""
        return [dict(entity, mentioned=dict(entity["mentioned"])) for entity in self._by_user.values()]


@dataclass(frozen=True)
class TeamsText:
    """Rendered text and the mention entities that must travel with it."""

    text: str
    mentions: list[dict[str, Any]]


def markdown(text: Rich, people: Directory, mentions: Mentions, *, in_card: bool = True) -> str:
    """Rich text as Teams markdown, adding its mentions to `mentions`; moments as functions in a card."""
    out: list[str] = []

    def at_line_start() -> bool:
        return not out or out[-1].endswith("\n")

    for part in text:
        if isinstance(part, str):
            out.append(escape(part, line_start=at_line_start()))
        elif isinstance(part, Mention):
            user = people.address(part.person, TEAMS)
            name = people.name(part.person)
            out.append(mentions.tag(user, name) if user else escape(name, line_start=at_line_start()))
        elif isinstance(part, Moment):
            out.append(moment_in_card(part.at) if in_card else moment_in_message(part.at))
        elif isinstance(part, Link):
            out.append(_link(part, at_line_start()))
        elif isinstance(part, Strong):
            out.append(_strong(part.text, at_line_start()))
        elif isinstance(part, Code):
            out.append(code_span(part.text) if part.text else "")
        elif isinstance(part, Bullets):
            items = [_item(item, people, mentions, in_card) for item in part.items]
            if items:
                lead = "" if not out or "".join(out).endswith("\n\n") else "\n\n"
                out.append(lead + "\n".join(f"- {item}" for item in items) + "\n\n")
    return "".join(out).strip("\n")


def _item(item: Rich, people: Directory, mentions: Mentions, in_card: bool) -> str:
    # A list item is one line: a paragraph break inside it would end the list.
    flat = tuple(
        " ".join(part.replace("\r", "\n").split("\n")) if isinstance(part, str) else part for part in item
    )
    return markdown(flat, people, mentions, in_card=in_card).replace("\n\n", " ") or "\u00a0"


def _link(link: Link, line_start: bool) -> str:
    label = escape(link.label or link.url, line_start=False)
    url = safe_url(link.url)
    if url is None:
        return escape(f"{link.label} ({link.url})", line_start=line_start)
    return f"[{label}]({url})"


def _strong(text: str, line_start: bool) -> str:
    # `** word**` is not bold in markdown: the stars must touch the words, so the spaces go outside.
    inner = text.strip()
    if not inner:
        return escape(text, line_start=line_start)
    before, after = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    inner, after = escape(inner, line_start=False), escape(after, line_start=False)
    return f"{escape(before, line_start=line_start)}**{inner}**{after}"


def card_text(text: Rich, people: Directory) -> TeamsText:
    """Rich text for one TextBlock of an Adaptive Card, with its mention entities."""
    mentions = Mentions()
    return TeamsText(markdown(text, people, mentions), mentions.entities())


def message_text(text: Rich, people: Directory) -> TeamsText:
    """Rich text for a markdown message, with its mention entities (moments in UTC words)."""
    mentions = Mentions()
    return TeamsText(markdown(text, people, mentions, in_card=False), mentions.entities())


def clip(text: str, limit: int) -> str:
    """Cut rendered text to a limit without leaving half a mention tag, or escape at the end."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    opened = cut.rfind("<at>")
    if opened > cut.rfind("</at>"):
        cut = cut[:opened]
    # An odd run of backslashes at the end would escape the ellipsis instead of the character it guarded.
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"
