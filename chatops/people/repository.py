"""The people table: someone met for the first time is recorded with the identity they were met by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatops.people.directory import Directory
from chatops.store.tables import Person

_PEOPLE = Person.__table__
_INSERT = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_PEOPLE).on_conflict_do_nothing()
    for dialect in (sqlite, postgresql)
}


def met(session: Session, directory: Directory, people: list[str], now: datetime) -> None:
    """Record these people if they are new to the desk (a person already on record is left as is)."""
    rows = []
    for person in dict.fromkeys(people):
        identities = directory.identities(person)
        rows.append(
            {
                "id": person,
                "slack": identities.get("slack"),
                "teams": identities.get("teams"),
                "email": identities.get("email"),
                "created_at": now,
            }
        )
    if rows:
        connection = session.connection()
        connection.execute(_INSERT[connection.dialect.name], rows)
