"""Roles: who works each team's tickets (agents and leads), and whose requests come first (VIPs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from chatops.people.directory import Directory


class Staffed(Protocol):
    """A team as roles need it: its id, and its agents and leads as the rules name them."""

    id: str
    agents: Sequence[str]
    leads: Sequence[str]
    tiers: Mapping[int, Sequence[str]]


class Roles:
    """Membership by person, whichever of their ids a ticket recorded them under."""

    def __init__(self, teams: Sequence[Staffed], vips: Iterable[str], directory: Directory) -> None:
        self.directory = directory
        self._agents = {team.id: self._everyone(team.agents) for team in teams}
        self._leads = {team.id: self._everyone(team.leads) for team in teams}
        self._staff = {
            team.id: tuple(dict.fromkeys(directory.resolve(entry) for entry in [*team.agents, *team.leads]))
            for team in teams
        }
        self._named = {
            team.id: (
                tuple(dict.fromkeys(directory.resolve(entry) for entry in team.agents)),
                tuple(dict.fromkeys(directory.resolve(entry) for entry in team.leads)),
            )
            for team in teams
        }
        self._tiers = {
            team.id: {
                tier: tuple(dict.fromkeys(directory.resolve(entry) for entry in entries))
                for tier, entries in team.tiers.items()
            }
            for team in teams
        }
        self._vips = self._everyone(vips)

    def _everyone(self, entries: Iterable[str]) -> frozenset[str]:
        return frozenset(
            alias for entry in entries for alias in self.directory.aliases(self.directory.resolve(entry))
        )

    def may_act(self, team: str, person: str) -> bool:
        """Whether this person works tickets of this team, as agent or lead."""
        return person in self._agents[team] or person in self._leads[team]

    def teams_of(self, person: str) -> list[str]:
        """The teams this person works in."""
        return [team for team in self._agents if self.may_act(team, person)]

    def led_by(self, person: str) -> list[str]:
        """The teams this person leads, in the config's order."""
        return [team for team, leads in self._leads.items() if person in leads]

    def staff(self, team: str) -> tuple[str, ...]:
        """The team's agents and leads, by person id, in the config's order."""
        return self._staff[team]

    def agents(self, team: str) -> tuple[str, ...]:
        """The team's agents, by person id, in the config's order."""
        return self._named[team][0]

    def leads(self, team: str) -> tuple[str, ...]:
        """The team's leads, by person id, in the config's order."""
        return self._named[team][1]

    def tier(self, team: str, tier: int) -> tuple[str, ...]:
        """Who hears of the team's tickets escalated to a tier: the people listed for it, else the leads."""
        return self._tiers[team].get(tier) or self.leads(team)

    def is_vip(self, person: str) -> bool:
        """Whether this person's requests are lifted a priority step."""
        return person in self._vips

    def same(self, one: str | None, other: str | None) -> bool:
        """Whether two recorded ids are one person."""
        if one is None or other is None:
            return one is other
        return self.directory.canonical(one) == self.directory.canonical(other)
