"""The tickets' timers: the SLA sweep, and forgetting old request ids."""

from __future__ import annotations

from chatops.clock import Timer
from chatops.tickets.commands import ForgetIntakeKeys, SweepSla

HOUR = 3600.0

TIMERS = (
    Timer(
        "sla-sweep", lambda desk: SweepSla(), every=lambda desk: desk.config.sla.sweep_seconds, at_start=True
    ),
    Timer("intake-keys", lambda desk: ForgetIntakeKeys(), every=lambda desk: HOUR),
)
