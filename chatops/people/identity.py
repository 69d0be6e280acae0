"""Person ids: a person the config declares goes by the id given there; anyone else by their first identity.

An undeclared person's id is their platform and their id there (`slack:U0CUST1`, `teams:<object id>`,
`email:ann@example.com`): the same person gets the same id on every first contact, with no lookup, and
the id says where to reach them. Declared ids hold no colon, so the two never meet.
"""

from __future__ import annotations

import re

SLACK = "slack"
TEAMS = "teams"
EMAIL = "email"

# Slack people are U (or W on Enterprise Grid) and uppercase letters and digits.
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
# A Teams user is named by their Entra object id, a GUID.
TEAMS_USER = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EMAIL_ADDRESS = re.compile(r"[^@\s:]+@[^@\s:]+\.[^@\s:]+")
DECLARED_ID = re.compile(r"[a-z][a-z0-9._-]{0,62}")
# Who acts when no person does.
SYSTEM = "system:"


def identity_id(platform: str, user: str) -> str:
    """The person id of someone known only by their identity on a platform."""
    return f"{platform}:{user.lower() if platform in (TEAMS, EMAIL) else user}"


def split(person: str) -> tuple[str, str] | None:
    """The platform and platform id an identity's person id stands for (None for a declared id)."""
    platform, colon, user = person.partition(":")
    return (platform, user) if colon and platform in (SLACK, TEAMS, EMAIL) else None


def platform_of(raw: str) -> str | None:
    """Which platform a raw id from the config belongs to, by its shape (None if it has none of them)."""
    if SLACK_USER.fullmatch(raw):
        return SLACK
    if TEAMS_USER.fullmatch(raw):
        return TEAMS
    if EMAIL_ADDRESS.fullmatch(raw):
        return EMAIL
    return None


def system(role: str) -> str:
    """The actor id of a part of the desk itself (triage, the SLA sweep), never a person."""
    return SYSTEM + role


def is_system(actor: str) -> bool:
    """Whether an actor id is the desk's own (see `system`)."""
    return actor.startswith(SYSTEM)
