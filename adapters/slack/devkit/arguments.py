"""A Web API call's arguments read as Slack reads them: flags, timestamps and the channel addressed."""

from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.slack.devkit.refusal import Refusal


def flag(value: Any) -> bool:
    """Whether a Slack boolean parameter is set, however the client encoded it."""
    return value in (True, 1, "1", "true", "True")


def ts_key(value: Any) -> Decimal:
    """A Slack timestamp as an exactly comparable number."""
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Refusal("invalid_arguments") from None


def channel_id(params: dict[str, Any]) -> str:
    """The channel id a request addresses, refusing a missing or malformed one."""
    channel = params.get("channel")
    if not channel or not isinstance(channel, str):
        raise Refusal("channel_not_found")
    # Posting to a user id lands in the bot's DM with that user, as on Slack.
    return "D" + channel if channel[0] in "UW" else channel
