"""Pages of messages as conversations.history and conversations.replies answer them, cursor by cursor."""

import base64
import copy
from decimal import Decimal
from typing import Any

from adapters.slack.devkit.arguments import flag, ts_key
from adapters.slack.devkit.refusal import Refusal

# Slack may return fewer messages than asked for; conversations.history never more than 999 at once.
HISTORY_MAX_LIMIT = 999
REPLIES_MAX_LIMIT = 1000


def page_of(
    items: list[dict], params: dict[str, Any], default_limit: int, max_limit: int, *, newest_first: bool
) -> tuple[list[dict], str]:
    """One page of `items` (in ts order) per the limit and cursor parameters, and the next cursor or ""."""
    try:
        limit = int(params.get("limit") or default_limit)
    except ValueError:
        raise Refusal("invalid_limit") from None
    if cursor := params.get("cursor"):
        try:
            anchor = Decimal(base64.b64decode(cursor).decode().removeprefix("next_ts:"))
        except (ValueError, ArithmeticError):
            raise Refusal("invalid_cursor") from None
        # Like Slack's, a cursor names the first message of the next page, not a position: messages
        # posted between two calls then shift nothing.
        items = [
            m for m in items if (ts_key(m["ts"]) <= anchor if newest_first else ts_key(m["ts"]) >= anchor)
        ]
    size = min(max(limit, 1), max_limit)
    page, rest = items[:size], items[size:]
    next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
    return page, next_cursor


def listing(page: list[dict], next_cursor: str, params: dict[str, Any]) -> dict[str, Any]:
    """A page as the method answers it: copies of its messages, with their metadata only if asked for."""
    keep_metadata = flag(params.get("include_all_metadata"))
    messages = [copy.deepcopy(m) for m in page]
    for message in messages:
        if not keep_metadata:
            message.pop("metadata", None)
    return {
        "messages": messages,
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }
