"""The people table: someone met for the first time is recorded with the identity they were met by, and
the name their platform gave, if any."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatops.people.directory import Directory
from chatops.store.db import insert_ignoring
from chatops.store.tables import Person
from chatops.work import Work

_PEOPLE = Person.__table__
_INSERT = insert_ignoring(_PEOPLE)


def met(
    work: Work,
    directory: Directory,
    known: set[str],
    people: list[str],
    names: Mapping[str, str] | None = None,
) -> None:
    """Record these people if they are new to the desk (a person already on record is left as is), with
    the names their platform gave (`names`, by person id)."""
    names = names or {}
    new = [person for person in dict.fromkeys(people) if person not in known]
    if not new:
        return
    rows = []
    for person in new:
        identities = directory.identities(person)
        rows.append(
            {
                "id": person,
                "name": names.get(person),
                "slack": identities.get("slack"),
                "teams": identities.get("teams"),
                "email": identities.get("email"),
                "created_at": work.now,
            }
        )
    connection = work.session.connection()
    connection.execute(_INSERT[connection.dialect.name], rows)
    learned = {person: names[person] for person in new if names.get(person)}
    work.committed.append(lambda: (known.update(new), directory.learn(learned)))


def learn_names(session: Session, directory: Directory, people: Iterable[str]) -> None:
    """Teach the directory the names on record of these people (those the config does not name)."""
    wanted = [person for person in set(people) if not directory.knows_name(person)]
    if wanted:
        rows = session.execute(select(_PEOPLE.c.id, _PEOPLE.c.name).where(_PEOPLE.c.id.in_(wanted)))
        directory.learn({person: name for person, name in rows if name})
