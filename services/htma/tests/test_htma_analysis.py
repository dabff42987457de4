"""The ratio computation, property-tested against the reference table."""

from __future__ import annotations

import math

import pytest
from htma.results.analysis import MAX_VALUE, analyse, validate_panel
from htma.results.reference import MINERAL_RANGES, RATIOS, REFERENCE_VERSION, Range
from hypothesis import given, settings
from hypothesis import strategies as st

IDEAL = {symbol: reference.ideal for symbol, reference in MINERAL_RANGES.items()}

values = st.floats(min_value=0.01, max_value=MAX_VALUE, allow_nan=False, allow_infinity=False)
panels = st.fixed_dictionaries(dict.fromkeys(MINERAL_RANGES, values))


def test_the_six_documented_ratios() -> None:
    assert [r.name for r in RATIOS] == ["Ca/Mg", "Na/K", "Ca/P", "Zn/Cu", "Fe/Cu", "Ca/K"]


def test_an_ideal_panel_is_all_normal() -> None:
    analysis = analyse(IDEAL)
    assert {m.flag for m in analysis.minerals} == {"normal"}
    assert analysis.deficient == ()
    assert analysis.reference_version == REFERENCE_VERSION
    ratios = {r.name: r for r in analysis.ratios}
    assert ratios["Ca/Mg"].value == pytest.approx(40 / 6, abs=1e-3)
    assert ratios["Na/K"].value == 2.5
    assert {r.flag for r in analysis.ratios} == {"normal"}


def test_a_worked_example() -> None:
    # Low magnesium and zinc, high copper: Ca/Mg and Ca/K high, Zn/Cu and Fe/Cu low.
    panel = {**IDEAL, "Mg": 3.0, "Zn": 10.0, "Cu": 4.0, "K": 6.0}
    analysis = analyse(panel)
    flags = {r.name: (r.value, r.flag) for r in analysis.ratios}
    assert flags["Ca/Mg"] == (13.333, "high")
    assert flags["Zn/Cu"] == (2.5, "low")
    assert flags["Fe/Cu"] == (0.55, "low")
    assert flags["Ca/K"] == (6.667, "high")
    assert flags["Na/K"] == (4.167, "high")
    assert flags["Ca/P"] == (2.5, "normal")
    assert analysis.deficient == ("Mg", "K", "Zn")
    assert {m.symbol: m.flag for m in analysis.minerals}["Cu"] == "high"


@settings(max_examples=300, deadline=None)
@given(panels)
def test_ratios_are_quotients_flagged_by_their_band(panel: dict[str, float]) -> None:
    analysis = analyse(panel)
    for reference, finding in zip(RATIOS, analysis.ratios, strict=True):
        exact = panel[reference.numerator] / panel[reference.denominator]
        assert finding.value == round(exact, 3)
        expected = (
            "low"
            if exact < reference.range.low
            else "high"
            if exact > reference.range.high
            else "normal"
        )
        assert finding.flag == expected


@settings(max_examples=300, deadline=None)
@given(panels)
def test_deficient_minerals_are_exactly_those_below_range(panel: dict[str, float]) -> None:
    analysis = analyse(panel)
    assert analysis.deficient == tuple(s for s, r in MINERAL_RANGES.items() if panel[s] < r.low)
    for finding in analysis.minerals:
        assert finding.unit == "mg%"
        assert (finding.flag == "high") == (
            panel[finding.symbol] > MINERAL_RANGES[finding.symbol].high
        )


@settings(max_examples=200, deadline=None)
@given(panels, st.floats(min_value=0.5, max_value=2.0))
def test_ratios_do_not_depend_on_scale(panel: dict[str, float], factor: float) -> None:
    scaled = {s: v * factor for s, v in panel.items()}
    if max(scaled.values()) > MAX_VALUE:
        return
    before = analyse(panel).ratios
    after = analyse(scaled).ratios
    for one, two in zip(before, after, strict=True):
        assert math.isclose(one.value, two.value, abs_tol=2e-3)


@settings(max_examples=200, deadline=None)
@given(panels, st.sampled_from(RATIOS), st.floats(min_value=1.01, max_value=5.0))
def test_raising_a_numerator_never_lowers_the_flag(
    panel: dict[str, float], ratio: object, factor: float
) -> None:
    order = {"low": 0, "normal": 1, "high": 2}
    name = ratio.name  # type: ignore[attr-defined] # a RatioReference
    numerator = ratio.numerator  # type: ignore[attr-defined] # a RatioReference
    raised = {**panel, numerator: min(panel[numerator] * factor, MAX_VALUE)}
    before = {r.name: r.flag for r in analyse(panel).ratios}[name]
    after = {r.name: r.flag for r in analyse(raised).ratios}[name]
    assert order[after] >= order[before]


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        ({**IDEAL, "Pb": 1.0}, "unknown minerals: Pb"),
        ({k: v for k, v in IDEAL.items() if k != "Zn"}, "missing minerals: Zn"),
        ({**IDEAL, "Ca": 0.0}, "Ca must be > 0"),
        ({**IDEAL, "Cu": -1.0}, "Cu must be > 0"),
        ({**IDEAL, "Fe": math.nan}, "Fe must be > 0"),
        ({**IDEAL, "Na": math.inf}, "Na must be > 0"),
        ({**IDEAL, "K": MAX_VALUE * 2}, "K must be > 0 and <= 10000"),
    ],
)
def test_invalid_panels_are_refused(panel: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_panel(panel)


def test_reference_ranges_are_consistent() -> None:
    for ratio in RATIOS:
        assert ratio.numerator in MINERAL_RANGES
        assert ratio.denominator in MINERAL_RANGES
    with pytest.raises(ValueError, match="low <= ideal <= high"):
        Range(low=5.0, high=4.0, ideal=4.5)
