"""Errors the desk raises; each carries a message fit to show the person who caused it."""

from __future__ import annotations

from chatops.rich import Rich, Segment, plain


class DeskError(Exception):
    """A refusal the user should read: the text is already phrased for them, as neutral rich text."""

    def __init__(self, *text: Segment) -> None:
        self.text: Rich = text
        self.message = plain(text)
        super().__init__(self.message)


class NotFound(DeskError):
    """The ticket (or other thing) named does not exist, or the caller may not see it."""


class Forbidden(DeskError):
    """The caller is not allowed to do this."""


class IllegalTransition(DeskError):
    """The workflow does not allow this step from the ticket's current state."""


class StaleCard(DeskError):
    """A click came from a card that no longer shows the ticket's current state."""

    def __init__(self, message: str, *, ticket_id: int) -> None:
        super().__init__(message)
        self.ticket_id = ticket_id


class InvalidInput(DeskError):
    """The text or form the user sent cannot be used as it is."""


class TooMany(DeskError):
    """The person asked for more than the desk takes from one person in a while."""


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


class Overloaded(DeskError):
    """The desk could not get to a request before its sender gave up; nothing was recorded."""

    def __init__(self) -> None:
        super().__init__(
            "The desk is very busy and could not record this in time, so nothing was saved. "
            "Please try again in a minute."
        )


class StorageUnavailable(DeskError):
    """The database cannot keep what is written to it; nothing was recorded."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            "The desk cannot save anything at the moment, so this was not recorded. "
            "Please try again in a few minutes; if it keeps happening, tell the support team."
        )
        self.problem = problem
