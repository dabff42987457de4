"""The ratio computation: a mineral panel against the reference ranges. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from htma.results.reference import MINERAL_RANGES, RATIOS, REFERENCE_VERSION, UNIT

#: Largest value a panel may report, in mg% (hair calcium rarely exceeds 300).
MAX_VALUE = 10_000.0


@dataclass(frozen=True, slots=True)
class MineralFinding:
    """One mineral of the panel against its reference interval."""

    symbol: str
    value: float
    unit: str
    low: float
    high: float
    flag: str


@dataclass(frozen=True, slots=True)
class RatioFinding:
    """One ratio against its band; ``value`` rounded to 3 decimals."""

    name: str
    value: float
    ideal: float
    low: float
    high: float
    flag: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """The result of a panel: findings, deficient minerals and the reference version."""

    minerals: tuple[MineralFinding, ...]
    ratios: tuple[RatioFinding, ...]
    deficient: tuple[str, ...]
    reference_version: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the result and served by the API)."""
        return asdict(self)


def validate_panel(values: Mapping[str, float]) -> dict[str, float]:
    """Check a panel: every reported mineral present, finite, > 0 and <= :data:`MAX_VALUE`.

    Args:
        values: mineral symbol -> value in mg%.

    Raises:
        ValueError: a mineral is missing, unknown or out of bounds (named in the message).
    """
    unknown = sorted(set(values) - set(MINERAL_RANGES))
    if unknown:
        raise ValueError(f"unknown minerals: {', '.join(unknown)}")
    missing = [m for m in MINERAL_RANGES if m not in values]
    if missing:
        raise ValueError(f"missing minerals: {', '.join(missing)}")
    clean: dict[str, float] = {}
    for symbol in MINERAL_RANGES:
        value = float(values[symbol])
        if not math.isfinite(value) or not 0 < value <= MAX_VALUE:
            raise ValueError(f"{symbol} must be > 0 and <= {MAX_VALUE:g} {UNIT}, got {value!r}")
        clean[symbol] = value
    return clean


def analyse(values: Mapping[str, float]) -> Analysis:
    """Compute the ratios of a panel and flag minerals and ratios against the references.

    A mineral below its interval is *deficient*; the deficient list keeps the panel's
    mineral order.

    Args:
        values: mineral symbol -> value in mg% (see :func:`validate_panel`).

    Raises:
        ValueError: the panel is invalid.
    """
    panel = validate_panel(values)
    minerals = tuple(
        MineralFinding(
            symbol=symbol, value=value, unit=UNIT, low=reference.low, high=reference.high,
            flag=reference.flag(value),
        )
        for symbol, value in panel.items()
        for reference in (MINERAL_RANGES[symbol],)
    )  # fmt: skip
    ratios = []
    for ratio in RATIOS:
        value = panel[ratio.numerator] / panel[ratio.denominator]
        ratios.append(
            RatioFinding(
                name=ratio.name,
                value=round(value, 3),
                ideal=ratio.range.ideal,
                low=ratio.range.low,
                high=ratio.range.high,
                # flag the exact value, not the rounded one
                flag=ratio.range.flag(value),
                meaning=ratio.meaning,
            )
        )
    deficient = tuple(m.symbol for m in minerals if m.flag == "low")
    return Analysis(minerals, tuple(ratios), deficient, REFERENCE_VERSION)
