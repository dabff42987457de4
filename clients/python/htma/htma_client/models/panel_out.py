from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.panel_out_status import PanelOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.panel_out_minerals import PanelOutMinerals


T = TypeVar("T", bound="PanelOut")


@_attrs_define
class PanelOut:
    """A submitted panel; ``status`` is ``pending`` until the job stores its result.

    Attributes:
        id (str):
        patient_id (str):
        practitioner_id (str):
        sampled_on (datetime.date):
        status (PanelOutStatus):
        minerals (PanelOutMinerals):
        created_at (datetime.datetime):
        unit (Literal['mg%'] | Unset):  Default: 'mg%'.
    """

    id: str
    patient_id: str
    practitioner_id: str
    sampled_on: datetime.date
    status: PanelOutStatus
    minerals: PanelOutMinerals
    created_at: datetime.datetime
    unit: Literal["mg%"] | Unset = "mg%"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        patient_id = self.patient_id

        practitioner_id = self.practitioner_id

        sampled_on = self.sampled_on.isoformat()

        status = self.status.value

        minerals = self.minerals.to_dict()

        created_at = self.created_at.isoformat()

        unit = self.unit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "patient_id": patient_id,
                "practitioner_id": practitioner_id,
                "sampled_on": sampled_on,
                "status": status,
                "minerals": minerals,
                "created_at": created_at,
            }
        )
        if unit is not UNSET:
            field_dict["unit"] = unit

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.panel_out_minerals import PanelOutMinerals  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        patient_id = d.pop("patient_id")

        practitioner_id = d.pop("practitioner_id")

        sampled_on = datetime.date.fromisoformat(d.pop("sampled_on"))

        status = PanelOutStatus(d.pop("status"))

        minerals = PanelOutMinerals.from_dict(d.pop("minerals"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        unit = cast(Literal["mg%"] | Unset, d.pop("unit", UNSET))
        if unit != "mg%" and not isinstance(unit, Unset):
            raise ValueError(f"unit must match const 'mg%', got '{unit}'")

        panel_out = cls(
            id=id,
            patient_id=patient_id,
            practitioner_id=practitioner_id,
            sampled_on=sampled_on,
            status=status,
            minerals=minerals,
            created_at=created_at,
            unit=unit,
        )

        panel_out.additional_properties = d
        return panel_out

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
