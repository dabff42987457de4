"""Reference ranges for hair-tissue mineral analysis (HTMA), in mg% (mg per 100 g of hair).

The table, its sources and the reasoning behind each band are documented in
``docs/services.md`` ("HTMA reference ranges"). Summary:

* **Ideal ratios** are the values published by the two laboratories whose interpretive
  model most HTMA practice follows: Trace Elements, Inc. (D. L. Watts, *Trace Elements
  and Other Essential Nutrients: Clinical Application of Tissue Mineral Analysis*, 1995)
  and Analytical Research Labs (P. C. Eck and L. Wilson, *Toxic Metals in Human Health
  and Disease*, 1989): Ca/Mg 6.67, Na/K 2.4, Ca/P 2.6, Zn/Cu 8, Ca/K 4, Fe/Cu 0.8.
* **Acceptable bands** around each ideal are this service's choice (no consensus
  interval is published); they are versioned with :data:`REFERENCE_VERSION`, which
  every stored result records.
* **Mineral ranges** are the commonly published reference intervals of the same
  laboratories, rounded.

Not a diagnostic standard: results are flags for a practitioner to interpret.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Recorded with every result; bump when a number below changes.
REFERENCE_VERSION = "htma-ref-2026.1"
UNIT = "mg%"


@dataclass(frozen=True, slots=True)
class Range:
    """An acceptable interval ``[low, high]`` around an ideal value.

    Args:
        low: below it the value is flagged ``low``.
        high: above it the value is flagged ``high``.
        ideal: the target value.
    """

    low: float
    high: float
    ideal: float

    def __post_init__(self) -> None:
        if not 0 < self.low <= self.ideal <= self.high:
            raise ValueError(f"need 0 < low <= ideal <= high, got {self}")

    def flag(self, value: float) -> str:
        """``"low"``, ``"normal"`` or ``"high"`` for ``value``."""
        if value < self.low:
            return "low"
        if value > self.high:
            return "high"
        return "normal"


@dataclass(frozen=True, slots=True)
class RatioReference:
    """A documented mineral ratio.

    Args:
        numerator: mineral symbol on top.
        denominator: mineral symbol below.
        range: the acceptable band and the ideal.
        meaning: what practitioners read into it (for the report).
    """

    numerator: str
    denominator: str
    range: Range
    meaning: str

    @property
    def name(self) -> str:
        """``"Ca/Mg"`` etc."""
        return f"{self.numerator}/{self.denominator}"


#: The minerals a panel reports (symbol -> reference interval in mg%).
MINERAL_RANGES: dict[str, Range] = {
    "Ca": Range(low=30.0, high=55.0, ideal=40.0),
    "Mg": Range(low=4.0, high=8.0, ideal=6.0),
    "Na": Range(low=18.0, high=32.0, ideal=25.0),
    "K": Range(low=7.0, high=14.0, ideal=10.0),
    "P": Range(low=13.0, high=19.0, ideal=16.0),
    "Zn": Range(low=14.0, high=20.0, ideal=16.0),
    "Cu": Range(low=1.8, high=3.0, ideal=2.5),
    "Fe": Range(low=1.5, high=3.0, ideal=2.2),
}

#: The documented ratios: numerator, denominator, low, high, ideal, meaning.
_RATIO_TABLE: tuple[tuple[str, str, float, float, float, str], ...] = (
    ("Ca", "Mg", 5.0, 8.5, 6.67, "blood-sugar ratio; high with carbohydrate intolerance"),
    ("Na", "K", 1.8, 3.0, 2.4, "adrenal/stress ratio; low in chronic stress, high in acute stress"),
    ("Ca", "P", 2.0, 3.2, 2.6, "autonomic balance; low with sympathetic dominance"),
    ("Zn", "Cu", 6.0, 10.0, 8.0, "hormonal ratio; low with copper excess or zinc deficiency"),
    ("Fe", "Cu", 0.6, 1.2, 0.8, "copper-iron antagonism; low when copper impairs iron use"),
    ("Ca", "K", 3.0, 5.5, 4.0, "thyroid ratio; high with slow thyroid activity"),
)

RATIOS: tuple[RatioReference, ...] = tuple(
    RatioReference(top, bottom, Range(low=low, high=high, ideal=ideal), meaning)
    for top, bottom, low, high, ideal, meaning in _RATIO_TABLE
)

MINERALS: tuple[str, ...] = tuple(MINERAL_RANGES)
