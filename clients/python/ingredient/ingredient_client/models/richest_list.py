from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.mineral_info import MineralInfo
    from ..models.rich_source import RichSource


T = TypeVar("T", bound="RichestList")


@_attrs_define
class RichestList:
    """Foods richest in one mineral, richest first.

    Attributes:
        mineral (MineralInfo): A mineral the catalog records.
        items (list[RichSource]):
    """

    mineral: MineralInfo
    items: list[RichSource]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        mineral = self.mineral.to_dict()

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mineral": mineral,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.mineral_info import MineralInfo  # noqa: PLC0415
        from ..models.rich_source import RichSource  # noqa: PLC0415

        d = dict(src_dict)
        mineral = MineralInfo.from_dict(d.pop("mineral"))

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = RichSource.from_dict(items_item_data)

            items.append(items_item)

        richest_list = cls(
            mineral=mineral,
            items=items,
        )

        richest_list.additional_properties = d
        return richest_list

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
