"""The conversation's rules: request channels and what in them is not a request, the quiet periods
after which a waiting or resolved ticket moves on by itself, and the satisfaction survey."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from chatops.config.durations import duration_or_zero, positive_duration

Quiet = Annotated[timedelta, BeforeValidator(positive_duration)]
# A request channel on either platform: a Slack channel (C… or G…) or a Teams channel (19:…@thread…).
REQUEST_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}|19:[^\s]+@thread\.[a-z0-9]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _channel_id(value: str) -> str:
    if not REQUEST_CHANNEL.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a channel id; ids look like C0123ABCD or G0123ABCD (in Slack: channel name -> "
            "View channel details -> the id at the bottom) or 19:…@thread.tacv2 (a Teams channel)"
        )
    return value


class RequestChannelEntry(_Strict):
    """A channel whose every new message is a request, for `team` (the desk's default team if none)."""

    channel: Annotated[str, AfterValidator(_channel_id)]
    team: str | None = None


def _entry(value: object) -> object:
    # A bare channel id is the short form of {channel: <id>}.
    return {"channel": value} if isinstance(value, str) else value


RequestChannels = list[Annotated[RequestChannelEntry, BeforeValidator(_entry)]]


class NoiseRules(_Strict):
    """What in a request channel opens nothing: a short thanks or ok (a message of no more than
    `max_words_for_thanks` words made only of `phrases`), and a message of emoji alone."""

    max_words_for_thanks: int = Field(default=3, ge=0, le=20)
    phrases: list[str] = Field(
        default_factory=lambda: ["thanks", "thank you", "thx", "ok", "okay", "great", "cheers", "got it"]
    )


class CsatSection(_Strict):
    """The satisfaction survey sent to a requester once their ticket closes (a team may switch it off)."""

    enabled: bool = True
    # How long after the close the survey goes out.
    delay: Annotated[timedelta, BeforeValidator(duration_or_zero)] = timedelta(0)
    # After this the survey is over: a late answer is thanked and not counted.
    answer_within: Quiet = timedelta(days=7)


class IntakeLimit(_Strict):
    """How many new tickets one person may open within a while: past it they are told, and their next
    words join their latest open ticket instead, so that one person cannot flood a team."""

    tickets: int = Field(default=10, ge=1)
    within: Quiet = timedelta(minutes=10)
