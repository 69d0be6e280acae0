"""A card's long menus in Slack: searched as people type (an external select whose options the desk gives
when Slack asks), short ones listed in the card; either way the choice works the ticket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from adapters.slack.devkit.cards import control
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from harness import CONFIG_PATH, SIGNING_SECRET, Probe, Slack, served_desk, settings_for

AGENT = "U0AGENT1"
# Past what Slack lists in one menu, so that a search answer has to stop somewhere too.
EXTRA_CATEGORIES = 120
EXTRA_TEAMS = 30


def crowded_rules(tmp_path: Path) -> Path:
    """The test desk's rules with many more teams and categories than a card lists."""
    rules = yaml.safe_load(CONFIG_PATH.read_text())
    rules["teams"] += [
        {
            **rules["teams"][1],
            "id": f"region{k:02d}",
            "name": f"Region {k:02d}",
            "slack_channel": f"C0REG{k:02d}",
        }
        for k in range(EXTRA_TEAMS)
    ]
    rules["categories"] += [
        {"id": f"topic{k:03d}", "keywords": [f"topic{k:03d}"]} for k in range(EXTRA_CATEGORIES)
    ]
    path = tmp_path / "crowded.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


@pytest.fixture
def crowded(database_url: str, standin: SlackStandIn, tmp_path: Path) -> Iterator[Slack]:
    settings = settings_for(database_url, standin.base_url, chatops_config=str(crowded_rules(tmp_path)))
    desk = served_desk(settings).start()
    try:
        yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
    finally:
        desk.stop()


def labels(options: list[dict]) -> list[str]:
    return [option["text"]["text"] for option in options]


def test_a_long_menu_is_searched_as_people_type_and_its_choice_moves_the_ticket(
    crowded: Slack, probe: Probe
) -> None:
    number = crowded.open_ticket("The export crashes")
    card = crowded.card(number)
    move = control(card, "move")
    assert move["type"] == "external_select" and "options" not in move

    everyone = crowded.search(number, "move", user=AGENT)
    assert len(everyone) == EXTRA_TEAMS + 1 and "Customer Support" not in labels(everyone)
    assert labels(crowded.search(number, "move", "bill", user=AGENT)) == ["Billing"]
    assert labels(crowded.search(number, "move", "  REGION 07", user=AGENT)) == ["Region 07"]
    assert crowded.search(number, "move", "no such team", user=AGENT) == []

    crowded.click(number, "move", user=AGENT, selected_option=everyone[labels(everyone).index("Billing")])

    crowded.card(number, "C0BILLING")
    assert probe.ticket(number).team == "billing"


def test_a_menu_longer_than_slack_lists_gives_the_first_hundred_and_narrows_as_people_type(
    crowded: Slack, probe: Probe
) -> None:
    number = crowded.open_ticket("The export crashes")

    first = crowded.search(number, "category", user=AGENT)
    assert len(first) == 100 and labels(first)[:2] == ["Billing", "Bug"]
    narrowed = crowded.search(number, "category", "topic11", user=AGENT)
    assert labels(narrowed) == [f"Topic{k}" for k in range(110, 120)]

    crowded.click(number, "category", user=AGENT, selected_option=narrowed[3])

    card = crowded.card(number, version=2)
    assert control(card, "category")["initial_option"]["value"] == "topic113"
    assert probe.ticket(number).category == "topic113"


def test_a_search_in_a_menu_its_card_no_longer_shows_finds_nothing(crowded: Slack) -> None:
    number = crowded.open_ticket("The export crashes")
    card = crowded.card(number)
    crowded.click(number, "resolve", user=AGENT)
    crowded.card(number, version=2)

    # Typed into the menu of the card as it was before the ticket was resolved.
    asked = crowded.requests.block_suggestion(
        control(card, "move"), user_id=AGENT, channel_id="C0SUPPORT", message=card
    )
    response = crowded.send(asked)

    assert (response.status, response.json()) == (200, {"options": []})


def test_a_short_menu_is_listed_in_the_card(slack: Slack) -> None:
    number = slack.open_ticket("The export crashes")

    move = control(slack.card(number), "move")

    assert move["type"] == "static_select"
    assert [option["value"] for option in move["options"]] == ["billing"]
