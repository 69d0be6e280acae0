"""Opening a ticket: check the request, triage and route it, record it, and queue its cards and answers."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from chatops.desk import Desk
from chatops.errors import InvalidInput, TooMany
from chatops.messaging.notices import TellPrivately, tell_privately
from chatops.messaging.ports import Place
from chatops.people import repository as people
from chatops.people.identity import system
from chatops.rich import Code, Mention, Moment, Rich, rich_to_json
from chatops.text import clip
from chatops.tickets import repository
from chatops.tickets.card import BODY_LIMIT
from chatops.tickets.clocking import opening_clocks
from chatops.tickets.commands import OpenTicket
from chatops.tickets.events import TicketOpened
from chatops.tickets.outbound import LINK_ORIGIN, THREAD_NOTE, in_parts, post_cards, tell_person
from chatops.tickets.triage import classify
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import Action, Status, next_status
from chatops.work import Work

MAX_DESCRIPTION = 40_000
# A title is a summary: its first line, within what a card's header can show on any platform.
TITLE_LIMIT = 150
TRIAGE = system("triage")


@dataclass(frozen=True)
class Opened:
    """What an intake came to: a new ticket, or the one an earlier delivery of the same request opened."""

    ticket: TicketView
    new: bool
    # What the person who opened it reads: the number, where it went, and how to check on it.
    confirmation: Rich


def open_ticket(work: Work, command: OpenTicket, desk: Desk) -> Opened:
    """Open, triage and route a ticket, and queue its cards; a request seen before changes nothing."""
    key = f"{command.platform}:{command.request_id}" if command.request_id is not None else None
    earlier = repository.replayed(work.session, key) if key is not None else None
    if earlier is not None:
        return _again(earlier, command, desk)
    text = _checked(command, desk)
    _within_limit(work, command, desk)
    triage = classify(
        desk.config,
        f"{command.title or ''}\n{text}",
        vip=desk.roles.is_vip(command.requester),
        category=command.category,
        priority=command.priority,
        team=command.team,
    )
    now = work.now
    title = (command.title or text).strip().splitlines()[0]
    triaged = next_status(Status.NEW, Action.TRIAGE)
    values: dict[str, Any] = {
        "title": clip(title, TITLE_LIMIT),
        "description": text or title,
        "requester": command.requester,
        "filed_by": command.filed_by,
        "intake_key": key,
        "platform": command.platform,
        "workspace": command.workspace,
        "via": command.via,
        "category": triage.category,
        "priority": triage.priority,
        "team": triage.team,
        "tier": 1,
        "status": triaged.value,
        "assignee": None,
        "reasons": list(triage.reasons),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "first_responded_at": None,
        "resolved_at": None,
        "asks": 0,
        "nudges": 0,
        "nudge_at": None,
        "survey": None,
        "csat_score": None,
        "csat_comment": None,
        **opening_clocks(desk, triage.team, triage.priority, now),
    }
    # Intake is the hot path: plain inserts cost a fraction of the ORM's unit-of-work bookkeeping.
    ticket_id = repository.insert_ticket(work.session, values)
    if ticket_id is None:
        # Another writer opened it from the same request a moment ago.
        again = repository.opened_by(work.session, key) if key is not None else None
        assert again is not None, "an insert is only refused for a request key already on record"
        return _again(again, command, desk)
    people.met(
        work,
        desk.directory,
        desk.known,
        [command.requester, *filter(None, [command.filed_by])],
        {command.requester: command.requester_name} if command.requester_name else None,
    )
    routed = {"team": triage.team, "category": triage.category, "priority": triage.priority}
    repository.insert_events(
        work.session,
        [
            repository.event(
                ticket_id,
                now,
                command.filed_by or command.requester,
                "opened",
                None,
                Status.NEW.value,
                {"via": command.via, "platform": command.platform},
            ),
            repository.event(
                ticket_id, now, TRIAGE, Action.TRIAGE.value, Status.NEW.value, triaged.value, None
            ),
            repository.event(
                ticket_id, now, TRIAGE, "routed", None, "/".join(str(v) for v in routed.values()), routed
            ),
        ],
    )
    if command.origin_place is not None and command.origin_ref is not None:
        repository.add_link(
            work, ticket_id, repository.ORIGIN, command.platform, command.origin_place, command.origin_ref
        )
    view = TicketView.of(SimpleNamespace(id=ticket_id, **values))
    work.record(TicketOpened(ticket_id, view.team, view.category))
    note = confirmation(view, desk, command.command)
    _send_out(work, desk, command, view, note)
    return Opened(view, True, note)


def _again(row: Any, command: OpenTicket, desk: Desk) -> Opened:
    view = TicketView.of(row)
    return Opened(view, False, confirmation(view, desk, command.command))


def _checked(command: OpenTicket, desk: Desk) -> str:
    text = command.text.strip()
    if not text and not command.title:
        raise InvalidInput("A ticket needs a few words about the problem.")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"That is {len(text):,} characters; a ticket takes at most {MAX_DESCRIPTION:,}. "
            "Put the essentials in the ticket and attach the rest."
        )
    if command.category is not None and desk.config.category(command.category) is None:
        raise InvalidInput(f"There is no category {command.category!r}.")
    if command.priority is not None and command.priority not in {p.id for p in desk.config.priorities}:
        raise InvalidInput(f"There is no priority {command.priority!r}.")
    if command.team is not None and command.team not in {t.id for t in desk.config.teams}:
        raise InvalidInput(f"There is no team {command.team!r}.")
    return text


def _within_limit(work: Work, command: OpenTicket, desk: Desk) -> None:
    """TooMany if the requester has opened as many tickets lately as the desk takes from one person."""
    limit = desk.config.intake_limit
    if limit is None:
        return
    since = work.now - limit.within
    if (
        repository.opened_since(work.session, desk.directory.aliases(command.requester), since)
        >= limit.tickets
    ):
        minutes = int(limit.within.total_seconds() // 60)
        raise TooMany(
            f"{limit.tickets} tickets have been opened for you in the last {minutes} minutes, the most the "
            "desk takes from one person in that time, so no new ticket was opened. Add to one of your open "
            "tickets, or try again in a few minutes."
        )


def _send_out(work: Work, desk: Desk, command: OpenTicket, view: TicketView, note: Rich) -> None:
    post_cards(work, desk, view.id, view.team)
    for platform in {place.platform for place in desk.config.team(view.team).places()}:
        # The whole of a request too long for its card goes into the card's thread.
        if len(view.description) > BODY_LIMIT:
            for part in in_parts(("The whole request",), view.description):
                work.send(platform, THREAD_NOTE, ticket_id=view.id, payload={"text": rich_to_json(part)})
    if command.link_origin and command.origin_place and command.origin_ref:
        work.send(command.platform, LINK_ORIGIN, ticket_id=view.id)
    filer = command.filed_by or command.requester
    if command.confirm_privately_in:
        tell_privately(
            work, TellPrivately(Place(command.platform, command.confirm_privately_in), filer, note)
        )
    if command.confirm_directly:
        tell_person(work, desk, filer, note, prefer=command.platform, ticket_id=view.id)
    if command.filed_by is not None:
        # The requester did not open it themselves: they learn of it, and how to follow it, from us.
        told: Rich = (Mention(command.filed_by), " opened a ticket from your message. ", *note)
        tell_person(work, desk, command.requester, told, prefer=command.platform, ticket_id=view.id)


def confirmation(view: TicketView, desk: Desk, command: str | None = None, also: Rich = ()) -> Rich:
    """What the requester reads once their ticket exists, with `also` said after it; with a command, how
    to check on it."""
    team = desk.config.team(view.team).name
    text: Rich = (
        f"Ticket {view.number} opened: “{clip(view.title, 80)}”. "
        f"Category {view.category or 'uncategorised'}, priority {view.priority}, routed to {team}. "
        "Expect a first answer by ",
        Moment(view.clocks.first_response_due),
        ".",
        *also,
    )
    if command:
        text += (" Check on it any time with ", Code(f"{command} status {view.id}"), ".")
    return text
