from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.result_out_analysis import ResultOutAnalysis
    from ..models.result_out_recommendations_type_0 import ResultOutRecommendationsType0


T = TypeVar("T", bound="ResultOut")


@_attrs_define
class ResultOut:
    """Ratios and flags of a panel, the deficient minerals, and food suggestions.

    Attributes:
        panel_id (str):
        reference_version (str):
        analysis (ResultOutAnalysis):
        deficient (list[str]):
        recommendations (None | ResultOutRecommendationsType0):
        computed_at (datetime.datetime):
    """

    panel_id: str
    reference_version: str
    analysis: ResultOutAnalysis
    deficient: list[str]
    recommendations: None | ResultOutRecommendationsType0
    computed_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.result_out_recommendations_type_0 import ResultOutRecommendationsType0  # noqa: PLC0415

        panel_id = self.panel_id

        reference_version = self.reference_version

        analysis = self.analysis.to_dict()

        deficient = self.deficient

        recommendations: dict[str, Any] | None
        if isinstance(self.recommendations, ResultOutRecommendationsType0):
            recommendations = self.recommendations.to_dict()
        else:
            recommendations = self.recommendations

        computed_at = self.computed_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "panel_id": panel_id,
                "reference_version": reference_version,
                "analysis": analysis,
                "deficient": deficient,
                "recommendations": recommendations,
                "computed_at": computed_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.result_out_analysis import ResultOutAnalysis  # noqa: PLC0415
        from ..models.result_out_recommendations_type_0 import ResultOutRecommendationsType0  # noqa: PLC0415

        d = dict(src_dict)
        panel_id = d.pop("panel_id")

        reference_version = d.pop("reference_version")

        analysis = ResultOutAnalysis.from_dict(d.pop("analysis"))

        deficient = cast(list[str], d.pop("deficient"))

        def _parse_recommendations(data: object) -> None | ResultOutRecommendationsType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                recommendations_type_0 = ResultOutRecommendationsType0.from_dict(data)

                return recommendations_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ResultOutRecommendationsType0, data)

        recommendations = _parse_recommendations(d.pop("recommendations"))

        computed_at = datetime.datetime.fromisoformat(d.pop("computed_at"))

        result_out = cls(
            panel_id=panel_id,
            reference_version=reference_version,
            analysis=analysis,
            deficient=deficient,
            recommendations=recommendations,
            computed_at=computed_at,
        )

        result_out.additional_properties = d
        return result_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
