"""Slack's rate limits per Web API method, and the token buckets that keep them in the Slack stand-in."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.devkit.arguments import channel_id
from adapters.slack.devkit.refusal import Refusal


@dataclass(frozen=True)
class Limit:
    """A token bucket: up to `burst` calls at once, refilled at `per_second`; per channel or per workspace."""

    per_second: float
    burst: int
    per_channel: bool = False


# Slack's documented limits: chat.postMessage about one message a second per channel with short bursts;
# Tier 3 is 50+ calls a minute per workspace and method, Tier 4 100+. The burst sizes are ours.
POST_MESSAGE_LIMIT = Limit(per_second=1.0, burst=3, per_channel=True)
TIER_3 = Limit(per_second=50 / 60, burst=10)
TIER_4 = Limit(per_second=100 / 60, burst=20)
RATE_LIMITS: Mapping[str, Limit] = {
    "chat.postMessage": POST_MESSAGE_LIMIT,
    "chat.update": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.open": TIER_3,
    "chat.postEphemeral": TIER_4,
    "views.open": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
    "users.info": TIER_4,
    "chat.getPermalink": TIER_4,
}


class RateLimiter:
    """Slack's rate limits as token buckets per method (and channel, where Slack counts per channel).

    Callers hold the lock that guards the workspace.
    """

    def __init__(self, limits: Mapping[str, Limit], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self._clock = clock
        # (method, channel or "") -> (tokens left, when they were counted)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def take(self, method: str, params: dict[str, Any]) -> float | None:
        """Spend a token on this call and return None, or else the seconds until a token is free."""
        limit = self.limits.get(method)
        if limit is None:
            return None
        scope = ""
        if limit.per_channel:
            try:
                scope = channel_id(params)
            except Refusal:
                return None  # the method refuses the call itself
        now = self._clock()
        tokens, counted = self._buckets.get((method, scope), (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - counted) * limit.per_second)
        if tokens >= 1.0:
            self._buckets[method, scope] = (tokens - 1.0, now)
            return None
        self._buckets[method, scope] = (tokens, now)
        return (1.0 - tokens) / limit.per_second

    def reset(self) -> None:
        """Refill every bucket."""
        self._buckets.clear()
