from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="MineralContent")


@_attrs_define
class MineralContent:
    """Content of one mineral per 100 g edible portion.

    Attributes:
        symbol (str):
        name (str):
        amount (float | None): None when not analysed
        unit (Literal['mg'] | Unset):  Default: 'mg'.
        per (Literal['100 g'] | Unset):  Default: '100 g'.
    """

    symbol: str
    name: str
    amount: float | None
    unit: Literal["mg"] | Unset = "mg"
    per: Literal["100 g"] | Unset = "100 g"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        symbol = self.symbol

        name = self.name

        amount: float | None
        amount = self.amount

        unit = self.unit

        per = self.per

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "symbol": symbol,
                "name": name,
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
        symbol = d.pop("symbol")

        name = d.pop("name")

        def _parse_amount(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        amount = _parse_amount(d.pop("amount"))

        unit = cast(Literal["mg"] | Unset, d.pop("unit", UNSET))
        if unit != "mg" and not isinstance(unit, Unset):
            raise ValueError(f"unit must match const 'mg', got '{unit}'")

        per = cast(Literal["100 g"] | Unset, d.pop("per", UNSET))
        if per != "100 g" and not isinstance(per, Unset):
            raise ValueError(f"per must match const '100 g', got '{per}'")

        mineral_content = cls(
            symbol=symbol,
            name=name,
            amount=amount,
            unit=unit,
            per=per,
        )

        mineral_content.additional_properties = d
        return mineral_content

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
