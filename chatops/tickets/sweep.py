"""The SLA sweep: the tickets whose next check has come are looked at, and each warning or breach notice
they are owed is recorded and queued in one transaction, so that it goes out exactly once however many
sweeps run, on however many replicas, and whatever dies in between."""

from __future__ import annotations

from chatops.config.rules import MAX_TIER
from chatops.desk import Desk
from chatops.messaging.outbox import MESSAGE, message_payload, send_words
from chatops.messaging.ports import Destination, MessageRef
from chatops.people.identity import system
from chatops.rich import Mention, Moment, Rich, Strong
from chatops.sla.clocks import LABELS, WARNING, Checkpoint, checkpoints, duration, left
from chatops.text import clip
from chatops.tickets import repository
from chatops.tickets.clocking import clocks_of, running_of
from chatops.tickets.commands import SweepSla
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import note, tell_person
from chatops.tickets.repository import CARD
from chatops.work import Work

SLA = system("sla")


def sweep(work: Work, command: SweepSla, desk: Desk) -> int:
    """Send what the due tickets are owed, once, and set each one's next check; the number looked at."""
    rows = repository.due_for_check(work.session, work.now, command.limit)
    for ticket in (Ticket(row, work, desk) for row in rows):
        config = desk.config
        targets, calendar = config.priority(ticket.priority), config.clockwork(ticket.team)
        points = checkpoints(clocks_of(ticket), running_of(ticket), targets, calendar, config.sla.warn_at)
        for point in points:
            if point.at <= work.now and repository.record_ping(
                work.session, ticket.id, point.clock, point.kind, point.due, work.now
            ):
                _notify(work, desk, ticket, point)
        ahead = [point.at for point in points if point.at > work.now]
        ticket.next_check_at = min(ahead) if ahead else None
    return len(rows)


def _notify(work: Work, desk: Desk, ticket: Ticket, point: Checkpoint) -> None:
    clock = LABELS[point.clock]
    # A direct message ends with a link to the ticket's card on the platform it goes out on.
    cards = {
        link.system: MessageRef(link.address, link.ref)
        for link in repository.links_of(work.session, [ticket.id])
        if link.kind == CARD and link.ref
    }
    about: Rich = (Strong(f"Ticket #{ticket.id}"), f" “{clip(ticket.title, 80)}”: ")
    if point.kind == WARNING:
        remaining = left(
            clocks_of(ticket),
            point.clock,
            work.now,
            desk.config.clockwork(ticket.team),
            desk.config.priority(ticket.priority),
        )
        said: Rich = (*about, f"the {clock} is due in {duration(remaining)} (", Moment(point.due), ").")
        _warn(work, desk, ticket, said, cards)
        note(
            work,
            desk,
            ticket.id,
            ticket.team,
            (f"SLA: the {clock} is due in {duration(remaining)} · ", Moment(point.due)),
        )
    else:
        said = (*about, f"SLA breached: the {clock} was due ", Moment(point.due), ".")
        for lead in desk.roles.leads(ticket.team):
            tell_person(work, desk, lead, said, prefer=ticket.platform, ticket_id=ticket.id, cards=cards)
        note(work, desk, ticket.id, ticket.team, (f"SLA breached: the {clock} was due ", Moment(point.due)))
        ticket.audit(SLA, "sla_breached", None, point.clock, {"clock": point.clock})
        if desk.config.team(ticket.team).escalate_on_breach and ticket.tier < MAX_TIER:
            before = ticket.tier
            ticket.escalate(SLA, f"the {clock} SLA was breached")
            note(
                work,
                desk,
                ticket.id,
                ticket.team,
                (f"Escalated from T{before} to T{ticket.tier} at the breach",),
            )
    # The card shows the clock's new state, and every control on it the ticket as it stands.
    ticket.changed(SLA, None)


def _warn(work: Work, desk: Desk, ticket: Ticket, said: Rich, cards: dict[str, MessageRef]) -> None:
    """The assignee hears it directly; an unassigned ticket is called out in the team's places."""
    if ticket.assignee is not None:
        tell_person(
            work, desk, ticket.assignee, said, prefer=ticket.platform, ticket_id=ticket.id, cards=cards
        )
        return
    agents = desk.roles.agents(ticket.team)
    named: Rich = tuple(part for person in agents for part in (" ", Mention(person)))
    for place in desk.config.team(ticket.team).places():
        payload = message_payload(Destination(place=place.address), (*said, " Unassigned; on duty:", *named))
        send_words(work, place.platform, MESSAGE, payload, ticket_id=ticket.id)
