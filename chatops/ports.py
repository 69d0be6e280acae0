"""What the core needs from outside, as small protocols: a chat gateway and a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from chatops.cards import Card, Rich


@dataclass(frozen=True)
class MessageRef:
    """A message on a platform: its place (channel, conversation) and id, both opaque to the core."""

    place: str
    id: str


@dataclass(frozen=True)
class Destination:
    """Where to post: a place, or a person's direct messages; optionally inside a thread."""

    place: str | None = None
    user: str | None = None
    thread: MessageRef | None = None


# The kinds of call a gateway is paced for (a lookup before a post goes within the post's own slot).
CallKind = Literal["post", "update", "whisper", "permalink"]


@dataclass(frozen=True)
class Pace:
    """How fast calls may go: calls of one scope share a rate, with a burst allowed after a quiet spell."""

    scope: str
    per_second: float
    burst: int = 1


class DeliveryError(Exception):
    """A platform call did not succeed."""


class RateLimited(DeliveryError):
    """The platform asked us to wait before calling again in the call's scope."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class TransientFailure(DeliveryError):
    """A failure worth retrying; `in_doubt` when the call may have taken effect all the same."""

    def __init__(self, message: str, *, in_doubt: bool) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


class PermanentFailure(DeliveryError):
    """The platform refused the call in a way a retry will not change."""


class ChatGateway(Protocol):
    """Posts, finds and edits messages on one chat platform."""

    platform: str

    async def post(self, to: Destination, body: Card | Rich, *, key: str) -> MessageRef:
        """Post a card or a text, tagged with `key` so that `find` can tell later whether it went out."""
        ...

    async def find(self, to: Destination, key: str, *, since: datetime) -> MessageRef | None:
        """The message tagged with `key` posted to `to` since `since`, if there is one."""
        ...

    async def update(self, ref: MessageRef, card: Card) -> None:
        """Replace a posted card with a new rendering."""
        ...

    async def whisper(self, place: str, user: str, text: Rich) -> None:
        """Show a text to one person in a place, visible to them only."""
        ...

    async def permalink(self, ref: MessageRef) -> str:
        """A link to a message that people can open."""
        ...

    def pace(self, kind: CallKind, place: str | None) -> Pace:
        """How fast calls of this kind to this place (a channel, a person's DM) may go on this platform."""
        ...


class Clock(Protocol):
    """The time, injectable so that tests and SLA sweeps can control it."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)
