"""API representations of panels and results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from htma.panels.models import Panel
from htma.results.models import Result

_MINERALS: dict[str, Any] = {
    "Ca": 42.0, "Mg": 3.1, "Na": 24.0, "K": 9.5, "P": 15.0, "Zn": 11.0, "Cu": 2.6, "Fe": 2.0,
}  # fmt: skip


class PanelIn(BaseModel):
    """A hair-tissue mineral panel: every mineral in mg% (mg per 100 g of hair)."""

    # NaN and ±Infinity (JSON ``NaN``, ``1e999``) are refused with 422: they compare
    # false with every bound and would read back as ``null``.
    model_config = ConfigDict(
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"patient_id": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "sampled_on": "2026-11-20",
                 "minerals": _MINERALS}
            ]
        },
    )  # fmt: skip

    patient_id: str = Field(min_length=1, max_length=64)
    sampled_on: date
    minerals: dict[str, float] = Field(
        description="Ca, Mg, Na, K, P, Zn, Cu, Fe in mg%; all required, each > 0"
    )


class PanelOut(BaseModel):
    """A submitted panel; ``status`` is ``pending`` until the job stores its result."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
                 "patient_id": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                 "practitioner_id": "5f0c3b2e9a7d4e6f8a1b2c3d4e5f6a7b",
                 "sampled_on": "2026-11-20", "status": "pending", "unit": "mg%",
                 "minerals": _MINERALS, "created_at": "2026-11-23T10:00:00Z"}
            ]
        }
    )  # fmt: skip

    id: str
    patient_id: str
    practitioner_id: str
    sampled_on: date
    status: Literal["pending", "ready"]
    unit: Literal["mg%"] = "mg%"
    minerals: dict[str, float]
    created_at: datetime

    @classmethod
    def of(cls, panel: Panel) -> PanelOut:
        return cls(
            id=panel.id,
            patient_id=panel.patient_id,
            practitioner_id=panel.practitioner_id,
            sampled_on=panel.sampled_on,
            status=panel.status,  # type: ignore[arg-type] # only these two are written
            minerals=panel.values(),
            created_at=panel.created_at,
        )


class ResultOut(BaseModel):
    """Ratios and flags of a panel, the deficient minerals, and food suggestions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"panel_id": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
                 "reference_version": "htma-ref-2026.1",
                 "analysis": {"ratios": [{"name": "Ca/Mg", "value": 13.548, "ideal": 6.67,
                                          "low": 5.0, "high": 8.5, "flag": "high",
                                          "meaning": "blood-sugar ratio"}],
                              "minerals": [], "deficient": ["Mg", "Zn"]},
                 "deficient": ["Mg", "Zn"],
                 "recommendations": {"status": "ok", "minerals": {"Mg": [
                     {"code": "A014", "name": "Rice bran", "amount": 794.0, "unit": "mg"}]}},
                 "computed_at": "2026-11-23T10:00:02Z"}
            ]
        }
    )  # fmt: skip

    panel_id: str
    reference_version: str
    analysis: dict[str, Any]
    deficient: list[str]
    recommendations: dict[str, Any] | None
    computed_at: datetime

    @classmethod
    def of(cls, result: Result) -> ResultOut:
        return cls.model_validate(result, from_attributes=True)
