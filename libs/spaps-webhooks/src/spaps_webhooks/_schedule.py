"""Retry schedule with jitter, and ``Retry-After`` parsing."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_DELAYS: tuple[float, ...] = (
    0,  # immediately
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
)
"""The Standard Webhooks example schedule, extended to about three days in total."""


class RetrySchedule:
    """When each attempt of a delivery happens.

    ``delays[n]`` is the wait before attempt ``n + 1`` (``delays[0]`` before the first,
    normally 0), so there are ``len(delays)`` attempts in all. Each wait is spread by
    ``±jitter`` (a fraction) so a receiver that comes back is not hit by every retry at
    the same instant.

    Args:
        delays: Seconds before each attempt.
        jitter: Relative spread, 0 to 1 (default 0.1).
        rng: Uniform ``[0, 1)`` source; inject a fixed one in tests.
    """

    def __init__(
        self,
        *,
        delays: Sequence[float] = DEFAULT_DELAYS,
        jitter: float = 0.1,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not delays:
            raise ValueError("delays must be a non-empty sequence of seconds")
        if any(d < 0 for d in delays):
            raise ValueError("delays must not be negative")
        if not 0 <= jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        self.delays = tuple(float(d) for d in delays)
        self.jitter = jitter
        self._rng = rng

    @property
    def max_attempts(self) -> int:
        """How many attempts a delivery gets."""
        return len(self.delays)

    def next_delay(self, attempts_made: int) -> float | None:
        """Seconds to wait after ``attempts_made`` failed attempts, or ``None`` when done.

        Args:
            attempts_made: Attempts so far (1 after the first).
        """
        if attempts_made >= len(self.delays):
            return None
        base = self.delays[attempts_made]
        spread = base * self.jitter * (2 * self._rng() - 1)
        return max(0.0, base + spread)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), or ``None``.

    Args:
        value: The header value.
        now: The current time for HTTP-dates.
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
