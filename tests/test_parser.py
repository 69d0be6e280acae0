"""The ticket command's words, parsed: what is a command, and what stays a request in plain words."""

from __future__ import annotations

import pytest

from chatops.errors import InvalidInput
from commands.parser import LinkIssue, OpenTicket, UnlinkIssue, parse


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("link 42 SUP-123", LinkIssue(42, "SUP-123")),
        ("link #42 sup-7", LinkIssue(42, "sup-7")),
        ("unlink 42", UnlinkIssue(42)),
        ("link is broken on the pricing page", OpenTicket("link is broken on the pricing page")),
        ("unlink my account from SSO", OpenTicket("unlink my account from SSO")),
    ],
)
def test_link_and_unlink_take_a_ticket_number_and_plain_words_stay_a_request(
    typed: str, parsed: object
) -> None:
    assert parse(typed) == parsed


@pytest.mark.parametrize("typed", ["link", "link 42", "link SUP-1", "link 42 SUP-1 now", "unlink"])
def test_a_link_or_unlink_missing_its_parts_says_how(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(typed)
    assert "as in" in refused.value.message
