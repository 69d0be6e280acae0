"""Jira's wiki markup, which its REST API v2 takes: an issue's description from a ticket's facts (the
requester's words as they wrote them, where to find the conversation, what triage and agents said), and
plain text made safe to show as written."""

from __future__ import annotations

from chatops.tracking.ports import TicketFacts

# What starts Jira's wiki markup; each is shown as itself when escaped with a backslash.
_MARKUP = frozenset("[]{}|*_^~+-?!#")
# The requester's words go in a block the tracker shows exactly as typed: no markup, no mentions.
_VERBATIM = "{noformat}"


def describe(facts: TicketFacts) -> str:
    """The description of the issue made for a ticket."""
    words = facts.description.replace(_VERBATIM, "{ noformat }")
    lines = [
        f"{_VERBATIM}\n{words}\n{_VERBATIM}",
        "----",
        f"*Support ticket:* #{facts.id}" + (f" · [{facts.link_label}|{facts.link}]" if facts.link else ""),
        f"*Requester:* {_plain(facts.requester)} · {'VIP customer' if facts.vip else 'customer'}",
        f"*Category:* {facts.category or 'uncategorised'} · *Priority:* {facts.priority} · "
        f"*Tier:* T{facts.tier} · *Team:* {_plain(facts.team)}",
    ]
    if facts.notes:
        lines.append("*Internal notes* (from the support team, not seen by the customer):")
        lines.extend(f"* {_plain(who)}: {escaped(said)}" for who, said in facts.notes)
    return "\n".join(lines)


def escaped(text: str) -> str:
    """Text as typed, with the characters that would start Jira's markup escaped (so `[x|url]`, `*x*`
    and `{code}` show as written)."""
    return "".join(f"\\{c}" if c in _MARKUP else c for c in text)


def _plain(text: str) -> str:
    """A name inside markup: the characters that would start markup there are left out."""
    return "".join(c for c in text if c not in "[]{}|*_^~+-?!#")
