from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.panel_in_minerals import PanelInMinerals


T = TypeVar("T", bound="PanelIn")


@_attrs_define
class PanelIn:
    """A hair-tissue mineral panel: every mineral in mg% (mg per 100 g of hair).

    Attributes:
        patient_id (str):
        sampled_on (datetime.date):
        minerals (PanelInMinerals): Ca, Mg, Na, K, P, Zn, Cu, Fe in mg%; all required, each > 0
    """

    patient_id: str
    sampled_on: datetime.date
    minerals: PanelInMinerals
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        patient_id = self.patient_id

        sampled_on = self.sampled_on.isoformat()

        minerals = self.minerals.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "patient_id": patient_id,
                "sampled_on": sampled_on,
                "minerals": minerals,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.panel_in_minerals import PanelInMinerals  # noqa: PLC0415

        d = dict(src_dict)
        patient_id = d.pop("patient_id")

        sampled_on = datetime.date.fromisoformat(d.pop("sampled_on"))

        minerals = PanelInMinerals.from_dict(d.pop("minerals"))

        panel_in = cls(
            patient_id=patient_id,
            sampled_on=sampled_on,
            minerals=minerals,
        )

        panel_in.additional_properties = d
        return panel_in

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
