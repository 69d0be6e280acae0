"""What requesters say to the desk after their first word, as small frozen commands."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.tickets.commands import OpenTicket


@dataclass(frozen=True)
class CustomerWrote:
    """A requester wrote to the bot in a conversation of their own (a DM, a personal chat): it joins their
    open ticket from that conversation, or opens one (`new <text>` always opens one)."""

    request: OpenTicket
