"""Teams rendering: real ticket cards checked by Microsoft's card parser; escaping, mentions and actions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from adaptive_cards import problems

from adapters.teams.cards import MAX_ACTIONS, adaptive_card, attachment, read_action
from adapters.teams.text import card_text, clip, escape, message_text
from chatops.composition import cards
from chatops.config.loading import load_desk_config
from chatops.config.rules import MAX_TIER, DeskConfig, Priority
from chatops.config.tracking import TrackerSection
from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Button, Card, Field
from chatops.messaging.cards import Card as NeutralCard
from chatops.people.directory import Directory, Person
from chatops.people.roles import Roles
from chatops.rich import Bullets, Code, Link, Mention, Moment, Strong
from chatops.sla.calendar import ALWAYS
from chatops.sla.clocks import started
from chatops.tickets.card import TICKETS, TicketCard
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import Status
from chatops.tracking.controls import PART as TRACKING
from chatops.tracking.controls import Tracked
from chatops.tracking.views import IssueLink

ALICE_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
BOB_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
CUSTOMER_ID = "1c6e8f2a-7d3b-4c5e-9f1a-2b3c4d5e6f70"
PEOPLE = Directory(
    [
        Person("alice", name="Alice Adams", teams=ALICE_ID, slack="U0AGENT1"),
        Person("bob", name="Bob Brown", teams=BOB_ID),
        Person("carol", name="Carol *Chen*", slack="U0AGENT2"),
    ]
)
STAFF = ("alice", "bob", "carol")
CUSTOMER = f"teams:{CUSTOMER_ID}"
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NORMAL = Priority(id="normal", first_response=timedelta(hours=4), resolution=timedelta(days=3))
HOSTILE = (
    "**bold** and [click](http://evil.example) for <at>Everyone</at>, "
    "due {{DATE(2026-03-02T09:00:00Z, SHORT)}} {{TIME(2026-03-02T09:00:00Z)}} &lt; _it_ `tick`\n"
    "# not a heading\n- not a list\n1. not a list either\n    not code"
)


@pytest.fixture(scope="module")
def config() -> DeskConfig:
    """The desk's test rules."""
    return load_desk_config(Path(__file__).parent / "desk.yaml")


@dataclass(frozen=True)
class Staff:
    """The support team as the cards here see it."""

    id: str = "support"
    agents: tuple[str, ...] = STAFF
    leads: tuple[str, ...] = ()
    tiers: dict[int, tuple[str, ...]] = field(default_factory=dict)


def ticket_card(
    ticket: TicketCard, config: DeskConfig, staff: tuple[str, ...], now: datetime, tracker: str | None = None
) -> NeutralCard:
    """The ticket's card as the desk draws it, with these people on its team and this tracker."""
    desk = Desk(config, PEOPLE, Roles([Staff(agents=staff)], (), PEOPLE), tracker)
    return cards.draw(ticket, desk, now)


def view(
    *, issue: IssueLink | None = None, merge_options: tuple[IssueLink, ...] = (), **changes: Any
) -> TicketCard:
    """A triaged ticket from a Teams customer, filed by Bob and assigned to Alice, with `changes`."""
    ticket = TicketView(
        id=42,
        title="Cannot log in",
        description="The login page says my password is wrong.\nI reset it twice.",
        requester=CUSTOMER,
        filed_by="bob",
        via="dm",
        platform="teams",
        category="access",
        priority="normal",
        team="support",
        tier=1,
        status=Status.TRIAGED,
        assignee="alice",
        reasons=("category access: keyword 'password'", "priority normal: default"),
        version=7,
        created_at=CREATED,
        updated_at=CREATED,
        clocks=started(CREATED, NORMAL, ALWAYS, 0.75),
        first_responded_at=None,
        resolved_at=None,
    )
    loaded = {
        TICKETS: "https://teams.microsoft.com/l/message/19:abc/1700000000000",
        TRACKING.name: Tracked(issue, merge_options),
    }
    return TicketCard(replace(ticket, **changes), loaded)


def elements(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every element of a type anywhere in a card, top-level actions included, in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card["body"])
    walk(card.get("actions", []))
    return found


def invoke(action: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    """The value of the invoke Teams sends when an Action.Execute is pressed: its data plus the inputs."""
    return {
        "action": {"type": "Action.Execute", "verb": action["verb"], "data": {**action["data"], **inputs}},
        "trigger": "manual",
    }


def shown(markdown: str) -> str:
    """What a CommonMark reader shows for escaped text: escapes undone, paragraphs as lines, spacers gone."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
    return text.replace("\n\n", "\n").replace("\u200b", "").replace("\u00a0", " ")


def test_a_triaged_ticket_card_has_every_control_and_parses_clean(config: DeskConfig) -> None:
    card = adaptive_card(ticket_card(view(), config, STAFF, CREATED), PEOPLE)

    assert problems(card) == []
    assert card["version"] == "1.5" and card["msteams"]["width"] == "Full"
    assert card["body"][0]["text"] == "#42 Cannot log in" and card["body"][0]["weight"] == "Bolder"
    assert [a["title"] for a in card["actions"]] == [
        "Assign to me",
        "Escalate to T2",
        "Resolve",
        "Reply to customer",
    ]
    assert [a.get("style") for a in card["actions"]] == ["positive", None, "positive", None]
    # Escalating asks why in a box under the card; what is typed there comes back with its reference.
    escalate = card["actions"][1]
    assert escalate["type"] == "Action.ShowCard"
    [why] = escalate["card"]["body"]
    [go] = escalate["card"]["actions"]
    assert read_action(invoke(go, {why["id"]: "Needs the database team"})) == (
        ActionRef(42, "escalate", 7),
        "Needs the database team",
    )
    # The reply opens a box under the card; what is typed there comes back with the reply's reference.
    reply = card["actions"][3]
    assert reply["type"] == "Action.ShowCard"
    [box] = reply["card"]["body"]
    assert box["type"] == "Input.Text" and box["isMultiline"]
    [send] = reply["card"]["actions"]
    assert read_action(invoke(send, {box["id"]: "Try again & tell me"})) == (
        ActionRef(42, "reply", 7),
        "Try again & tell me",
    )
    picker, menu, category, move = elements(card, "Input.ChoiceSet")
    assert [c["value"] for c in category["choices"]] == ["billing", "bug", "feedback", "access"]
    assert [c["value"] for c in move["choices"]] == ["billing"]
    assert category["value"] == "access"
    # Carol has no Teams identity, so she cannot be picked here.
    assert picker["choices"] == [
        {"title": "Alice Adams", "value": "alice"},
        {"title": "Bob Brown", "value": "bob"},
    ]
    assert picker["value"] == "alice"
    assert [c["value"] for c in menu["choices"]] == ["urgent", "high", "normal", "low"]
    assert menu["value"] == "normal"
    assert picker["id"] != menu["id"]
    facts = {fact["title"]: fact["value"] for fact in elements(card, "FactSet")[0]["facts"]}
    assert facts["Assignee"] == "<at>Alice Adams</at>"
    assert facts["Filed by"] == "<at>Bob Brown</at>"
    assert facts["Why"] == "category access: keyword 'password'\n\npriority normal: default"
    mentioned = {e["mentioned"]["id"]: e["text"] for e in card["msteams"]["entities"]}
    assert mentioned == {
        CUSTOMER_ID: f"<at>{CUSTOMER_ID}</at>",
        BOB_ID: "<at>Bob Brown</at>",
        ALICE_ID: "<at>Alice Adams</at>",
    }
    context = card["body"][-1]
    assert context["isSubtle"] is True
    assert context["text"].endswith("{{DATE(2026-03-02T09:00:00Z, SHORT)}} {{TIME(2026-03-02T09:00:00Z)}}")
    assert (
        "[Original message](https://teams.microsoft.com/l/message/19:abc/1700000000000)"
        in card["body"][2]["text"]
    )


def test_a_resolved_ticket_card_offers_close_with_or_without_survey_and_reopen(config: DeskConfig) -> None:
    card = adaptive_card(ticket_card(view(status=Status.RESOLVED), config, STAFF, CREATED), PEOPLE)

    assert problems(card) == []
    assert [a["title"] for a in card["actions"]] == ["Close", "Close without survey", "Reopen"]
    assert elements(card, "Input.ChoiceSet") == [] and elements(card, "ActionSet") == []
    assert [read_action(invoke(action, {})) for action in card["actions"]] == [
        (ActionRef(42, "close", 7), None),
        (ActionRef(42, "close-quietly", 7), None),
        (ActionRef(42, "reopen", 7), None),
    ]


def test_a_closed_ticket_card_offers_only_reopen(config: DeskConfig) -> None:
    card = adaptive_card(ticket_card(view(status=Status.CLOSED), config, STAFF, CREATED), PEOPLE)

    assert [a["title"] for a in card["actions"]] == ["Reopen"]


def test_a_top_tier_ticket_card_cannot_be_escalated(config: DeskConfig) -> None:
    card = adaptive_card(ticket_card(view(tier=MAX_TIER, assignee=None), config, STAFF, CREATED), PEOPLE)

    assert problems(card) == []
    assert [a["title"] for a in card["actions"]] == ["Assign to me", "Resolve", "Reply to customer"]
    picker = elements(card, "Input.ChoiceSet")[0]
    assert "value" not in picker
    facts = {fact["title"]: fact["value"] for fact in elements(card, "FactSet")[0]["facts"]}
    assert facts["Tier"] == "T3" and facts["Assignee"] == "Unassigned"


def test_what_a_customer_typed_is_shown_as_typed_and_pings_nobody(config: DeskConfig) -> None:
    ticket = view(title="**urgent** <at>Everyone</at> {{TIME(2026-03-02T09:00:00Z)}}", description=HOSTILE)
    card = adaptive_card(ticket_card(ticket, config, STAFF, CREATED), PEOPLE)

    assert problems(card) == []
    header, body = card["body"][0]["text"], card["body"][2]["text"]
    assert shown(header) == "#42 **urgent** <at>Everyone</at> {{TIME(2026-03-02T09:00:00Z)}}"
    assert (
        shown(body)
        == HOSTILE + "\n[Original message](https://teams.microsoft.com/l/message/19:abc/1700000000000)"
    )
    for text in (header, body):
        for markup in (r"<at", r"\*\*", r"\]\(http://evil", r"&lt;", r"_it", r"`tick"):
            assert not re.search(r"(?<!\\)" + markup, text), markup
        assert "{{" not in text
        assert not re.search(r"^(#+ |[-+] |\d+[.)] | {4})", text, re.MULTILINE)
    # Only the people the card itself names are mentioned; "Everyone" is nobody's entity.
    assert {e["text"] for e in card["msteams"]["entities"]} == {
        f"<at>{CUSTOMER_ID}</at>",
        "<at>Bob Brown</at>",
        "<at>Alice Adams</at>",
    }


def test_a_customer_typing_an_agents_mention_tag_does_not_reuse_its_entity() -> None:
    rendered = card_text(("<at>Alice Adams</at> says hi to ", Mention("alice")), PEOPLE)

    assert rendered.text == "\\<at\\>Alice Adams\\</at\\> says hi to <at>Alice Adams</at>"
    assert rendered.text.count("<at>Alice Adams</at>") == 1


def test_a_date_function_typed_by_someone_is_broken_but_looks_the_same() -> None:
    typed = "{{DATE(2026-03-02T09:00:00Z, SHORT)}}"
    rendered = card_text((typed,), PEOPLE)

    assert "{{" not in rendered.text
    assert shown(rendered.text) == typed
    assert "{{" not in card_text((Code(typed),), PEOPLE).text


def test_a_mention_of_someone_on_teams_is_a_tag_with_its_entity() -> None:
    rendered = card_text(("Over to ", Mention("alice"), " and ", Mention("alice"), "."), PEOPLE)

    assert rendered.text == "Over to <at>Alice Adams</at> and <at>Alice Adams</at>."
    assert rendered.mentions == [
        {
            "type": "mention",
            "text": "<at>Alice Adams</at>",
            "mentioned": {"id": ALICE_ID, "name": "Alice Adams"},
        }
    ]


def test_someone_without_a_teams_identity_is_named_not_mentioned() -> None:
    rendered = card_text(("Ask ", Mention("carol")), PEOPLE)

    assert rendered.text == "Ask Carol \\*Chen\\*"
    assert rendered.mentions == []
    assert card_text((Mention("slack:U0CUST9"),), PEOPLE).text == "U0CUST9"


def test_two_people_of_the_same_name_get_tags_of_their_own() -> None:
    people = Directory([Person("ann1", name="Ann", teams=ALICE_ID), Person("ann2", name="Ann", teams=BOB_ID)])
    rendered = card_text((Mention("ann1"), Mention("ann2")), people)

    assert rendered.text == "<at>Ann</at><at>Ann (2)</at>"
    assert [(m["text"], m["mentioned"]["id"]) for m in rendered.mentions] == [
        ("<at>Ann</at>", ALICE_ID),
        ("<at>Ann (2)</at>", BOB_ID),
    ]


def test_moments_are_date_functions_in_cards_and_utc_words_in_messages() -> None:
    at = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))

    assert card_text(("Opened ", Moment(at)), PEOPLE).text == (
        "Opened {{DATE(2026-03-02T09:30:15Z, SHORT)}} {{TIME(2026-03-02T09:30:15Z)}}"
    )
    assert message_text(("Opened ", Moment(at)), PEOPLE).text == "Opened 2026-03-02 09:30 UTC"
    assert message_text((Moment(datetime(2026, 3, 2, 9, 0)),), PEOPLE).text == "2026-03-02 09:00 UTC"


def test_emphasis_code_links_and_lists() -> None:
    rendered = card_text(
        (
            "Run ",
            Code("chatops `reopen` <at>x</at>"),
            " then ",
            Strong(" see_this "),
            "\n",
            Bullets((("first ", Mention("bob")), ("- second",))),
            Link("https://example.com/a b)", "the [guide]"),
            " ",
            Link("javascript:alert(1)", "click"),
        ),
        PEOPLE,
    )

    assert rendered.text == (
        "Run ``chatops `reopen` <\u200bat>x<\u200b/at>`` then  **see\\_this** \n\n"
        "- first <at>Bob Brown</at>\n- \\- second\n\n"
        "[the \\[guide\\]](https://example.com/a%20b%29) click (javascript:alert(1))"
    )
    assert [m["mentioned"]["id"] for m in rendered.mentions] == [BOB_ID]


def test_fields_hold_markdown_and_mentions_and_long_text_is_clipped_whole() -> None:
    card = Card(
        header="x" * 400,
        summary="summary",
        fields=(Field("Who *really*", (Mention("bob"),)), Field("Empty", ())),
        body=("y" * 6000,),
    )
    rendered = adaptive_card(card, PEOPLE)

    assert problems(rendered) == []
    assert len(rendered["body"][0]["text"]) == 150 and rendered["body"][0]["text"].endswith("…")
    assert rendered["body"][1]["facts"] == [
        {"title": "Who \\*really\\*", "value": "<at>Bob Brown</at>"},
        {"title": "Empty", "value": "\u2014"},
    ]
    assert len(rendered["body"][2]["text"]) == 5000
    assert clip("abc <at>Alice</at>", 10) == "abc …"
    assert clip("abcdefgh\\*xyz", 10) == "abcdefgh…"


def test_a_mention_clipped_out_of_the_text_leaves_no_entity() -> None:
    card = Card(header="h", summary="s", body=("z" * 4990, Mention("alice")))
    rendered = adaptive_card(card, PEOPLE)

    assert "<at>" not in rendered["body"][1]["text"]
    assert "entities" not in rendered["msteams"]


def test_more_buttons_than_teams_shows_spill_into_the_body(config: DeskConfig) -> None:
    buttons = tuple(Button(f"Step {n}", ActionRef(9, f"step{n}", 1)) for n in range(8))
    rendered = adaptive_card(Card(header="Many", summary="Many", actions=buttons), PEOPLE)

    assert problems(rendered) == []
    assert len(rendered["actions"]) == MAX_ACTIONS
    assert [a["title"] for a in elements(rendered, "ActionSet")[0]["actions"]] == ["Step 6", "Step 7"]


def test_every_control_reads_back_from_its_invoke(config: DeskConfig) -> None:
    card = adaptive_card(ticket_card(view(), config, STAFF, CREATED), PEOPLE)
    picker, menu, category, move = elements(card, "Input.ChoiceSet")
    inputs = {picker["id"]: "bob", menu["id"]: "urgent", category["id"]: "bug", move["id"]: "billing"}
    read = [read_action(invoke(a, inputs)) for a in elements(card, "Action.Execute")]

    assert read == [
        (ActionRef(42, "assign", 7), "bob"),
        (ActionRef(42, "priority", 7), "urgent"),
        (ActionRef(42, "category", 7), "bug"),
        (ActionRef(42, "move", 7), "billing"),
        (ActionRef(42, "claim", 7), None),
        # The boxes were left empty here: the desk asks for words rather than act on none.
        (ActionRef(42, "escalate", 7), None),
        (ActionRef(42, "resolve", 7), None),
        (ActionRef(42, "reply", 7), None),
    ]
    submit = elements(card, "Action.Execute")[0]
    assert read_action(invoke(submit, {picker["id"]: "", menu["id"]: "low"})) == (
        ActionRef(42, "assign", 7),
        None,
    )
    assert attachment(ticket_card(view(), config, STAFF, CREATED), PEOPLE)["content"] == card


def _with(action: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"action": {**action, **changes}}


ACTION = {"type": "Action.Execute", "verb": "chatops|42|claim|7", "data": {"chatops": "chatops|42|claim|7"}}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "chatops|42|claim|7",
        {},
        {"action": "chatops|42|claim|7"},
        _with(ACTION, type="Action.Submit"),
        _with(ACTION, verb=None),
        _with(ACTION, data=None),
        _with(ACTION, verb="other|42|claim|7", data={"chatops": "other|42|claim|7"}),
        _with(ACTION, verb="chatops|forty|claim|7", data={"chatops": "chatops|forty|claim|7"}),
        _with(ACTION, verb="chatops|42|claim", data={"chatops": "chatops|42|claim"}),
        _with(ACTION, data={"chatops": "chatops|42|claim|8"}),
        _with(ACTION, data={"chatops": "chatops|42|claim|7", "chatops_input": "someone.else"}),
        _with(
            ACTION,
            data={
                "chatops": "chatops|42|claim|7",
                "chatops_input": "chatops.claim.0",
                "chatops.claim.0": ["x"],
            },
        ),
    ],
)
def test_foreign_or_garbled_invokes_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        read_action(value)


def test_the_parser_does_find_problems_in_a_broken_card() -> None:
    broken = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "Marquee", "text": "no such element"},
            {"type": "Input.ChoiceSet", "id": "same", "choices": []},
            {"type": "Input.Text", "id": "same"},
        ],
        "actions": [{"type": "Action.Execute", "title": str(n)} for n in range(7)],
    }
    found = problems(broken)

    assert any("Marquee" in p for p in found)
    assert any("Duplicate" in p for p in found)
    assert any("at least one choice" in p for p in found)
    assert any("actions" in p.lower() for p in found), found


def test_escaping_leaves_plain_words_alone() -> None:
    assert escape("Thanks, that fixed it (finally)!") == "Thanks, that fixed it (finally)!"
    assert escape("- not a list", line_start=False) == "- not a list"


@pytest.mark.parametrize(
    ("later", "state"),
    [(timedelta(hours=1), ""), (timedelta(hours=3), " · due soon"), (timedelta(hours=4), " · SLA breached")],
)
def test_the_card_shows_each_clock_due_and_turns_as_it_nears_and_passes(
    config: DeskConfig, later: timedelta, state: str
) -> None:
    card = adaptive_card(ticket_card(view(), config, STAFF, CREATED + later), PEOPLE)

    facts = {fact["title"]: fact["value"] for fact in elements(card, "FactSet")[0]["facts"]}
    assert problems(card) == []
    # Due at 13:00 UTC on 2 March; Teams shows it in each reader's own time zone.
    assert facts["First response"].startswith("due {{DATE(2026-03-02T13:00:00Z")
    assert facts["First response"].endswith("}}" + state)
    assert facts["Resolution"].startswith("due {{DATE(2026-03-05T09:00:00Z")


def test_a_waiting_ticket_shows_its_clocks_paused(config: DeskConfig) -> None:
    card = adaptive_card(ticket_card(view(status=Status.WAITING_ON_CUSTOMER), config, STAFF, CREATED), PEOPLE)

    facts = {fact["title"]: fact["value"] for fact in elements(card, "FactSet")[0]["facts"]}
    assert facts["Resolution"] == "paused while waiting on the customer"


def test_a_card_with_jira_offers_send_and_merge_then_shows_the_issue_and_parses_clean(
    config: DeskConfig,
) -> None:
    rules = TrackerSection.model_validate(
        {
            "categories": {
                "bug": {"project": "SUP", "issue_type": "Bug"},
                "feedback": {"project": "PROD", "issue_type": "Story"},
            }
        }
    )
    tracked = config.model_copy(update={"jira": rules})
    options = (IssueLink("PROD", "PROD-7", summary="Export **everything** to <at>PDF</at>"),)

    offered = adaptive_card(ticket_card(view(merge_options=options), tracked, STAFF, CREATED, "jira"), PEOPLE)
    linked = view(issue=IssueLink("SUP", "SUP-3", "https://jira.example/browse/SUP-3", "In Progress"))
    shown_card = adaptive_card(ticket_card(linked, tracked, STAFF, CREATED, "jira"), PEOPLE)
    untracked = adaptive_card(ticket_card(view(merge_options=options), tracked, STAFF, CREATED), PEOPLE)

    assert problems(offered) == [] and problems(shown_card) == []
    *_, send, merge = elements(offered, "Input.ChoiceSet")
    assert [c["value"] for c in send["choices"]] == ["SUP · Bug", "PROD · Story"]
    assert merge["choices"][0]["value"] == "PROD-7"
    assert len(elements(shown_card, "Input.ChoiceSet")) == 4
    facts = {fact["title"]: fact["value"] for fact in elements(shown_card, "FactSet")[0]["facts"]}
    assert shown(facts["Jira"]) == "[SUP-3](https://jira.example/browse/SUP-3) · In Progress"
    assert len(elements(untracked, "Input.ChoiceSet")) == 4
