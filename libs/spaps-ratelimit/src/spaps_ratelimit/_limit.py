"""``Limit``: a rate (count per period) and a burst, as an immutable value."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNITS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
_PATTERN = re.compile(
    r"^\s*(?P<count>\d+)\s*(?:/|per)\s*(?P<mult>\d+)?\s*(?P<unit>[a-z]+)"
    r"(?:\s*[;,]?\s*burst\s*=?\s*(?P<burst>\d+))?\s*$",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Limit:
    """``count`` requests per ``period`` seconds, allowing bursts of ``burst``.

    The limiter is a GCRA: requests are spaced ``period / count`` seconds apart on
    average, and up to ``burst`` may arrive at once after a quiet spell.

    Args:
        count: Sustained number of requests per period (>= 1).
        period: The period in whole seconds (>= 1; header windows are whole seconds).
        burst: Requests that may arrive at once; defaults to ``count``.
        name: Policy name shown in the ``RateLimit`` headers; defaults to e.g. ``"10-per-1s"``.

    .. versionadded:: 0.1.0
    """

    count: int
    period: int
    burst: int = 0
    name: str = ""
    interval_us: float = field(init=False, repr=False, compare=False)
    tolerance_us: float = field(init=False, repr=False, compare=False)
    header_item: str = field(init=False, repr=False, compare=False)
    id: str = field(init=False, repr=False, compare=False)
    _header_bytes: tuple[bytes, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for attr in ("count", "period", "burst"):
            value = getattr(self, attr)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Limit.{attr} must be an int, got {value!r}")
        if self.count < 1:
            raise ValueError(f"Limit.count must be >= 1, got {self.count}")
        if self.period < 1:
            raise ValueError(f"Limit.period must be >= 1 second, got {self.period}")
        if self.burst < 0:
            raise ValueError(f"Limit.burst must be >= 1, got {self.burst}")
        if self.burst == 0:
            object.__setattr__(self, "burst", self.count)
        if not self.name:
            object.__setattr__(self, "name", f"{self.count}-per-{self.period}s")
        elif not _NAME.match(self.name):
            raise ValueError(
                f"Limit.name must match {_NAME.pattern} (it is a header token), got {self.name!r}"
            )
        interval = self.period * 1_000_000 / self.count
        object.__setattr__(self, "interval_us", interval)
        object.__setattr__(self, "tolerance_us", interval * self.burst)
        # This limit's item of the RateLimit-Policy field, built once.
        item = f'"{self.name}";q={self.count};w={self.period}'
        if self.burst != self.count:
            item += f";spaps-burst={self.burst}"
        object.__setattr__(self, "header_item", item)
        # Pre-encoded for the hot path: the policy item, and the name as an item key.
        object.__setattr__(self, "_header_bytes", (item.encode(), f'"{self.name}"'.encode()))
        # Storage suffix: distinct for distinct rates, so plan changes never share state.
        object.__setattr__(self, "id", f"{self.count}/{self.period}/{self.burst}")

    @classmethod
    def per_second(cls, count: int, *, burst: int = 0, name: str = "") -> Limit:
        """``count`` requests per second (see :class:`Limit` for ``burst`` and ``name``)."""
        return cls(count, 1, burst, name)

    @classmethod
    def per_minute(cls, count: int, *, burst: int = 0, name: str = "") -> Limit:
        """``count`` requests per minute."""
        return cls(count, 60, burst, name)

    @classmethod
    def per_hour(cls, count: int, *, burst: int = 0, name: str = "") -> Limit:
        """``count`` requests per hour."""
        return cls(count, 3600, burst, name)

    @classmethod
    def per_day(cls, count: int, *, burst: int = 0, name: str = "") -> Limit:
        """``count`` requests per day."""
        return cls(count, 86400, burst, name)

    @classmethod
    def parse(cls, text: str, *, name: str = "") -> Limit:
        """Parse ``"10/second"``, ``"100 per minute"``, ``"5/10s"`` or ``"10/s burst=20"``.

        Args:
            text: The limit in text form.
            name: Optional policy name.

        Raises:
            ValueError: The text is not a limit.
        """
        match = _PATTERN.match(text)
        unit = match and _UNITS.get(match["unit"].lower())
        if match is None or unit is None:
            raise ValueError(f"not a rate limit: {text!r} (expected e.g. '10/second')")
        period = unit * int(match["mult"] or 1)
        return cls(int(match["count"]), period, int(match["burst"] or 0), name)


def as_limits(limits: Limit | str | object) -> tuple[Limit, ...]:
    """Normalise one limit, a text limit or a sequence of them into a non-empty tuple."""
    items = [limits] if isinstance(limits, Limit | str) else limits
    if not isinstance(items, list | tuple):
        raise TypeError(f"limits must be a Limit, a str or a sequence of them, got {limits!r}")
    result = tuple(item if isinstance(item, Limit) else Limit.parse(str(item)) for item in items)
    if not result:
        raise ValueError("at least one limit is required")
    if len({limit.name for limit in result}) != len(result):
        raise ValueError("limits of one policy need distinct names")
    return result
