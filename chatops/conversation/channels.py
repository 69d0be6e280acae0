"""Request channels: which channels file every new message as a request (those of the rules, and those a
lead turned on from chat), and turning one on or off from chat."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from chatops.config.conversation import REQUEST_CHANNEL
from chatops.conversation import repository as conversation
from chatops.conversation.commands import RequestChannelOf, SwitchRequestChannel
from chatops.desk import Desk
from chatops.errors import Forbidden, IllegalTransition, InvalidInput
from chatops.messaging.ports import Place
from chatops.rich import Rich
from chatops.work import Work

log = structlog.get_logger("chatops.conversation")


@dataclass(frozen=True)
class Switched:
    """A channel turned on or off, for which team, and what the lead who did it is told."""

    team: str
    on: bool
    said: Rich


def request_team(session: Session, desk: Desk, platform: str, place: str) -> str | None:
    """The team a request channel files its messages for; None if the channel is not one."""
    if _posted_in(desk, platform, place):
        # The desk's own channels hold the cards and the agents' talk under them: none of that is a request.
        return None
    ruled = desk.config.request_team(place)
    if ruled is not None:
        return ruled
    row = conversation.declared_channel(session, platform, place)
    if row is None:
        return None
    # A team taken out of the rules since it was turned on: its requests go where unrouted ones go.
    return row.team if row.team in _team_ids(desk) else desk.config.default_team


def request_channel_of(session: Session, query: RequestChannelOf, desk: Desk) -> str | None:
    """Which team a channel files its messages for, if it is a request channel."""
    return request_team(session, desk, query.platform, query.place)


def switch_request_channel(work: Work, command: SwitchRequestChannel, desk: Desk) -> Switched:
    """Turn the channel into a request channel for the lead's team (the first, if they lead several), or
    back into an ordinary channel; only a lead may, and only in the channel itself."""
    if not REQUEST_CHANNEL.fullmatch(command.place):
        raise InvalidInput(
            "Only a channel can be a request channel: type this in the channel you want to turn on or off."
        )
    led = desk.roles.led_by(command.actor)
    if not led:
        raise Forbidden("Only a team lead can turn a request channel on or off.")
    if _posted_in(desk, command.platform, command.place):
        raise InvalidInput(
            "The desk posts its ticket cards in this channel, so it cannot be a request channel as well."
        )
    ruled = desk.config.request_team(command.place)
    row = conversation.declared_channel(work.session, command.platform, command.place)
    if command.on:
        if ruled is not None or row is not None:
            team = ruled or (row.team if row is not None else desk.config.default_team)
            raise IllegalTransition(
                "This channel is already a request channel: its new messages become tickets for "
                f"{_name(desk, team)}."
            )
        team = led[0]
        if not conversation.declare_channel(
            work.session, command.platform, command.place, team, command.actor, work.now
        ):
            raise IllegalTransition(
                "This channel was turned on a moment ago: it is a request channel already."
            )
        log.info("request_channel_on", platform=command.platform, place=command.place, team=team)
        said: Rich = (
            "This channel is now a request channel: every new message here becomes a ticket for "
            f"{_name(desk, team)}",
        )
        if len(led) > 1:
            said += (f" (the first of the teams you lead: {', '.join(_name(desk, t) for t in led)})",)
        said += (
            ", and replies in its thread join the ticket. A plain thanks, emoji alone and bots' messages "
            "open nothing.",
        )
        return Switched(team, True, said)
    if ruled is not None:
        raise IllegalTransition(
            "This channel is a request channel by the desk's rules, so it can only be turned off there."
        )
    if row is None:
        raise IllegalTransition("This channel is not a request channel, so there is nothing to turn off.")
    if row.team in _team_ids(desk) and row.team not in led:
        raise Forbidden(f"Only a lead of {_name(desk, row.team)} can turn this channel off.")
    conversation.drop_channel(work.session, command.platform, command.place)
    log.info("request_channel_off", platform=command.platform, place=command.place, team=row.team)
    return Switched(
        row.team,
        False,
        (
            "This channel is an ordinary channel again: new messages here no longer become tickets. "
            "The tickets already opened from it go on as before.",
        ),
    )


def _posted_in(desk: Desk, platform: str, place: str) -> bool:
    return Place(platform, place) in {found for _, found in desk.config.all_places()}


def _team_ids(desk: Desk) -> set[str]:
    return {team.id for team in desk.config.teams}


def _name(desk: Desk, team: str) -> str:
    return desk.config.team(team).name if team in _team_ids(desk) else team
