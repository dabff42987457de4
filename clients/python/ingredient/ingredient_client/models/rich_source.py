from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RichSource")


@_attrs_define
class RichSource:
    """An ingredient with its content of the mineral asked about.

    Attributes:
        code (str):
        name (str):
        scientific_name (None | str):
        food_group (None | str):
        source (str):
        amount (float): content per 100 g edible portion
        unit (Literal['mg'] | Unset):  Default: 'mg'.
        per (Literal['100 g'] | Unset):  Default: '100 g'.
    """

    code: str
    name: str
    scientific_name: None | str
    food_group: None | str
    source: str
    amount: float
    unit: Literal["mg"] | Unset = "mg"
    per: Literal["100 g"] | Unset = "100 g"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        name = self.name

        scientific_name: None | str
        scientific_name = self.scientific_name

        food_group: None | str
        food_group = self.food_group

        source = self.source

        amount = self.amount

        unit = self.unit

        per = self.per

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "name": name,
                "scientific_name": scientific_name,
                "food_group": food_group,
                "source": source,
                "amount": amount,
            }
        )
        if unit is not UNSET:
            field_dict["unit"] = unit
        if per is not UNSET:
            field_dict["per"] = per

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code = d.pop("code")

        name = d.pop("name")

        def _parse_scientific_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        scientific_name = _parse_scientific_name(d.pop("scientific_name"))

        def _parse_food_group(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        food_group = _parse_food_group(d.pop("food_group"))

        source = d.pop("source")

        amount = d.pop("amount")

        unit = cast(Literal["mg"] | Unset, d.pop("unit", UNSET))
        if unit != "mg" and not isinstance(unit, Unset):
            raise ValueError(f"unit must match const 'mg', got '{unit}'")

        per = cast(Literal["100 g"] | Unset, d.pop("per", UNSET))
        if per != "100 g" and not isinstance(per, Unset):
            raise ValueError(f"per must match const '100 g', got '{per}'")

        rich_source = cls(
            code=code,
            name=name,
            scientific_name=scientific_name,
            food_group=food_group,
            source=source,
            amount=amount,
            unit=unit,
            per=per,
        )

        rich_source.additional_properties = d
        return rich_source

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
