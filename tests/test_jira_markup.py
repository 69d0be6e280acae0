"""Jira's wiki markup: what a person wrote is shown as they wrote it, and an issue's description holds
the ticket's facts with the requester's words untouched."""

from __future__ import annotations

from chatops.tracking.ports import TicketFacts
from integrations.jira.markup import describe, escaped

FACTS = TicketFacts(
    id=42,
    description="Steps:\n# open {noformat} [x|http://evil.example]\n* crash",
    requester="Dana [VIP]",
    vip=True,
    category="bug",
    priority="high",
    tier=2,
    team="Customer Support",
    link="https://slack.test/archives/C0SUPPORT/p1",
    link_label="Ticket card",
    notes=(("Alex", "Seen on *EU* only"),),
)


def test_markup_characters_are_escaped_so_they_show_as_typed() -> None:
    assert escaped("[x|http://evil.example] *bold* {color:red} -strike- #1") == (
        "\\[x\\|http://evil.example\\] \\*bold\\* \\{color:red\\} \\-strike\\- \\#1"
    )


def test_the_description_keeps_the_requesters_words_verbatim_and_marks_internal_notes() -> None:
    text = describe(FACTS)

    verbatim, _, rest = text.partition("\n----\n")
    assert verbatim == "{noformat}\nSteps:\n# open { noformat } [x|http://evil.example]\n* crash\n{noformat}"
    assert "*Support ticket:* #42 · [Ticket card|https://slack.test/archives/C0SUPPORT/p1]" in rest
    assert "*Requester:* Dana VIP · VIP customer" in rest
    assert "*Category:* bug · *Priority:* high · *Tier:* T2 · *Team:* Customer Support" in rest
    assert rest.endswith(
        "*Internal notes* (from the support team, not seen by the customer):\n* Alex: Seen on \\*EU\\* only"
    )
