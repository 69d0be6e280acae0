"""The directory: who a platform user is to the desk, and where a person can be reached on each platform."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chatops.people.identity import EMAIL, SLACK, TEAMS, identity_id, platform_of, split


@dataclass(frozen=True)
class Person:
    """Someone the config names, with any of their identities."""

    id: str
    name: str | None = None
    slack: str | None = None
    teams: str | None = None
    email: str | None = None

    def identities(self) -> dict[str, str]:
        """The person's id on each platform they have one on."""
        found = {SLACK: self.slack, TEAMS: self.teams, EMAIL: self.email}
        return {platform: user for platform, user in found.items() if user}


class Directory:
    """Declared people, and the rule for everyone else, in memory; the names platforms gave the others are
    learned as they are met or read back from the people table."""

    def __init__(self, people: Iterable[Person] = ()) -> None:
        self._people = {person.id: person for person in people}
        # Names platforms gave people the config does not name, learned as they are met or read back.
        self._learned: dict[str, str] = {}
        self._by_identity: dict[str, str] = {}
        for person in self._people.values():
            for platform, user in person.identities().items():
                self._by_identity[identity_id(platform, user)] = person.id

    def person(self, platform: str, user: str) -> str:
        """The person id of a platform user: a declared person's id, or one made from the identity."""
        own = identity_id(platform, user)
        return self._by_identity.get(own, own)

    def resolve(self, entry: str) -> str:
        """The person id a config entry names: a declared person's id, or a raw platform id."""
        if entry in self._people:
            return entry
        platform = platform_of(entry)
        if platform is None:
            raise ValueError(f"{entry!r} is neither a person of `people` nor a platform user id")
        return self.person(platform, entry)

    def canonical(self, person: str) -> str:
        """The one id of a person, given any of theirs (say, an identity's id from before it was declared)."""
        return self._by_identity.get(person, person)

    def aliases(self, person: str) -> frozenset[str]:
        """Every id a person may be recorded under: their own and those made from each of their identities."""
        person = self.canonical(person)
        declared = self._people.get(person)
        if declared is None:
            return frozenset({person})
        return frozenset({person, *(identity_id(p, u) for p, u in declared.identities().items())})

    def address(self, person: str, platform: str) -> str | None:
        """The person's id on a platform, if they have one there."""
        declared = self._people.get(self.canonical(person))
        if declared is not None:
            return declared.identities().get(platform)
        parts = split(person)
        return parts[1] if parts is not None and parts[0] == platform else None

    def reach(self, person: str, preferred: str, platforms: Iterable[str]) -> str | None:
        """The platform to reach a person on: `preferred` if they are on it, else the first they are on."""
        for platform in (preferred, *platforms):
            if self.address(person, platform) is not None:
                return platform
        return None

    def name(self, person: str) -> str:
        """What to call a person where they cannot be mentioned."""
        declared = self._people.get(self.canonical(person))
        if declared is not None and declared.name:
            return declared.name
        learned = self._learned.get(person)
        if learned is not None:
            return learned
        parts = split(person)
        return parts[1] if parts is not None else person

    def learn(self, names: dict[str, str]) -> None:
        """Remember the names platforms gave people (by person id)."""
        self._learned.update(names)

    def knows_name(self, person: str) -> bool:
        """Whether a person's name is known here (declared, or learned)."""
        declared = self._people.get(self.canonical(person))
        return (declared is not None and bool(declared.name)) or person in self._learned

    def identities(self, person: str) -> dict[str, str]:
        """All the platform ids known for a person."""
        declared = self._people.get(self.canonical(person))
        if declared is not None:
            return declared.identities()
        parts = split(person)
        return {parts[0]: parts[1]} if parts is not None else {}
