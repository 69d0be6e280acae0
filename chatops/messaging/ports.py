"""What messaging needs from outside, as a small protocol: a chat gateway per platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from chatops.messaging.cards import Card
from chatops.rich import Rich


@dataclass(frozen=True)
class MessageRef:
    """A message on a platform: its place (channel, conversation) and id, both opaque to the core."""

    place: str
    id: str


@dataclass(frozen=True)
class Place:
    """Somewhere messages go on one platform: a channel or a conversation, by the platform's own id."""

    platform: str
    address: str


@dataclass(frozen=True)
class Destination:
    """Where to post: a place, or a person's direct messages (by person id); optionally inside a thread."""

    place: str | None = None
    person: str | None = None
    thread: MessageRef | None = None


# The kinds of call a gateway is paced for (a lookup before a post goes within the post's own slot).
CallKind = Literal["post", "update", "private", "link"]


@dataclass(frozen=True)
class Pace:
    """How fast calls may go: calls of one scope share a rate, with a burst allowed after a quiet spell."""

    scope: str
    per_second: float
    burst: int = 1
    # A wider limit the scope is part of as well (all of a tenant's conversations, say).
    within: Pace | None = None


class DeliveryError(Exception):
    """A call to another system did not succeed."""


class RateLimited(DeliveryError):
    """The system asked us to wait before calling again in the call's scope."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class TransientFailure(DeliveryError):
    """A failure worth retrying; `in_doubt` when the call may have taken effect all the same."""

    def __init__(self, message: str, *, in_doubt: bool) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


class PermanentFailure(DeliveryError):
    """The system refused the call in a way a retry will not change."""


class ChatGateway(Protocol):
    """Posts and edits messages on one chat platform, within its limits, in its own way.

    People are named by person id; the gateway finds their address on its platform.
    """

    platform: str

    async def post(
        self, to: Destination, body: Card | Rich, *, key: str, look_since: datetime | None
    ) -> MessageRef:
        """Post a card or a text tagged with `key`. With `look_since` (an earlier try may have landed),
        first look for a message with that key posted since then, and return it instead of posting again."""
        ...

    async def update(self, ref: MessageRef, card: Card) -> None:
        """Replace a posted card with a new rendering."""
        ...

    async def tell_privately(self, place: str | None, person: str, text: Rich) -> None:
        """Show a text to one person only: in the place where they are, if the platform can, else directly."""
        ...

    async def link(self, ref: MessageRef) -> str:
        """A link to a message that people can open."""
        ...

    def pace(self, kind: CallKind, place: str | None) -> Pace:
        """How fast calls of this kind to this place (a channel, a person) may go on this platform."""
        ...

    async def close(self) -> None:
        """Release the gateway's connections."""
        ...
