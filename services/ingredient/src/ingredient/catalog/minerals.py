"""The minerals the catalog records, with their units (all mg per 100 g edible portion)."""

from __future__ import annotations

from dataclasses import dataclass

from ingredient.errors import UnknownMineralError


@dataclass(frozen=True, slots=True)
class Mineral:
    """A mineral the catalog records.

    Args:
        symbol: chemical symbol, e.g. ``"Ca"``.
        name: English name.
        column: model attribute holding the content in ``unit`` per 100 g.
        unit: always ``"mg"`` (per 100 g edible portion).
    """

    symbol: str
    name: str
    column: str
    unit: str = "mg"


MINERALS: tuple[Mineral, ...] = (
    Mineral("Ca", "calcium", "calcium_mg"),
    Mineral("Mg", "magnesium", "magnesium_mg"),
    Mineral("Na", "sodium", "sodium_mg"),
    Mineral("K", "potassium", "potassium_mg"),
    Mineral("P", "phosphorus", "phosphorus_mg"),
    Mineral("Fe", "iron", "iron_mg"),
    Mineral("Zn", "zinc", "zinc_mg"),
    Mineral("Cu", "copper", "copper_mg"),
    Mineral("Mn", "manganese", "manganese_mg"),
    Mineral("Se", "selenium", "selenium_mg"),
    Mineral("Cr", "chromium", "chromium_mg"),
    Mineral("Mo", "molybdenum", "molybdenum_mg"),
)

_BY_KEY = {key: m for m in MINERALS for key in (m.symbol.lower(), m.name)}


def get_mineral(key: str) -> Mineral:
    """Return the mineral named by symbol or English name, case-insensitively.

    Args:
        key: ``"Ca"``, ``"ca"`` or ``"calcium"``.

    Raises:
        UnknownMineralError: no such mineral in the catalog.
    """
    try:
        return _BY_KEY[key.strip().lower()]
    except KeyError:
        known = ", ".join(m.symbol for m in MINERALS)
        raise UnknownMineralError(f"{key!r} is not a recorded mineral (known: {known})") from None
