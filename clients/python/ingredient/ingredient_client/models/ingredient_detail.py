from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.mineral_content import MineralContent
    from ..models.nutrients import Nutrients


T = TypeVar("T", bound="IngredientDetail")


@_attrs_define
class IngredientDetail:
    """An ingredient with its full composition.

    Attributes:
        code (str):
        name (str):
        scientific_name (None | str):
        food_group (None | str):
        source (str):
        local_names (None | str):
        version (int):
        nutrients (Nutrients): Proximate composition per 100 g edible portion.
        minerals (list[MineralContent]):
    """

    code: str
    name: str
    scientific_name: None | str
    food_group: None | str
    source: str
    local_names: None | str
    version: int
    nutrients: Nutrients
    minerals: list[MineralContent]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        name = self.name

        scientific_name: None | str
        scientific_name = self.scientific_name

        food_group: None | str
        food_group = self.food_group

        source = self.source

        local_names: None | str
        local_names = self.local_names

        version = self.version

        nutrients = self.nutrients.to_dict()

        minerals = []
        for minerals_item_data in self.minerals:
            minerals_item = minerals_item_data.to_dict()
            minerals.append(minerals_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "name": name,
                "scientific_name": scientific_name,
                "food_group": food_group,
                "source": source,
                "local_names": local_names,
                "version": version,
                "nutrients": nutrients,
                "minerals": minerals,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.mineral_content import MineralContent  # noqa: PLC0415
        from ..models.nutrients import Nutrients  # noqa: PLC0415

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

        def _parse_local_names(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        local_names = _parse_local_names(d.pop("local_names"))

        version = d.pop("version")

        nutrients = Nutrients.from_dict(d.pop("nutrients"))

        minerals = []
        _minerals = d.pop("minerals")
        for minerals_item_data in _minerals:
            minerals_item = MineralContent.from_dict(minerals_item_data)

            minerals.append(minerals_item)

        ingredient_detail = cls(
            code=code,
            name=name,
            scientific_name=scientific_name,
            food_group=food_group,
            source=source,
            local_names=local_names,
            version=version,
            nutrients=nutrients,
            minerals=minerals,
        )

        ingredient_detail.additional_properties = d
        return ingredient_detail

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
