"""The people table: someone met for the first time is recorded with the identity they were met by."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from chatops.people.directory import Directory
from chatops.store.tables import Person
from chatops.work import Work

_PEOPLE = Person.__table__
_INSERT = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_PEOPLE).on_conflict_do_nothing()
    for dialect in (sqlite, postgresql)
}


def met(work: Work, directory: Directory, known: set[str], people: list[str]) -> None:
    """Record these people if they are new to the desk (a person already on record is left as is)."""
    new = [person for person in dict.fromkeys(people) if person not in known]
    if not new:
        return
    rows = []
    for person in new:
        identities = directory.identities(person)
        rows.append(
            {
                "id": person,
                "slack": identities.get("slack"),
                "teams": identities.get("teams"),
                "email": identities.get("email"),
                "created_at": work.now,
            }
        )
    connection = work.session.connection()
    connection.execute(_INSERT[connection.dialect.name], rows)
    work.committed.append(lambda: known.update(new))
