from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Nutrients")


@_attrs_define
class Nutrients:
    """Proximate composition per 100 g edible portion.

    Attributes:
        energy_kj (float | None): energy, kJ per 100 g
        water_g (float | None): moisture, g per 100 g
        protein_g (float | None): protein, g per 100 g
        fat_g (float | None): total fat, g per 100 g
        carbohydrate_g (float | None): available carbohydrate, g per 100 g
        fibre_g (float | None): total dietary fibre, g per 100 g
    """

    energy_kj: float | None
    water_g: float | None
    protein_g: float | None
    fat_g: float | None
    carbohydrate_g: float | None
    fibre_g: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        energy_kj: float | None
        energy_kj = self.energy_kj

        water_g: float | None
        water_g = self.water_g

        protein_g: float | None
        protein_g = self.protein_g

        fat_g: float | None
        fat_g = self.fat_g

        carbohydrate_g: float | None
        carbohydrate_g = self.carbohydrate_g

        fibre_g: float | None
        fibre_g = self.fibre_g

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "energy_kj": energy_kj,
                "water_g": water_g,
                "protein_g": protein_g,
                "fat_g": fat_g,
                "carbohydrate_g": carbohydrate_g,
                "fibre_g": fibre_g,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_energy_kj(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        energy_kj = _parse_energy_kj(d.pop("energy_kj"))

        def _parse_water_g(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        water_g = _parse_water_g(d.pop("water_g"))

        def _parse_protein_g(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        protein_g = _parse_protein_g(d.pop("protein_g"))

        def _parse_fat_g(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        fat_g = _parse_fat_g(d.pop("fat_g"))

        def _parse_carbohydrate_g(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        carbohydrate_g = _parse_carbohydrate_g(d.pop("carbohydrate_g"))

        def _parse_fibre_g(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        fibre_g = _parse_fibre_g(d.pop("fibre_g"))

        nutrients = cls(
            energy_kj=energy_kj,
            water_g=water_g,
            protein_g=protein_g,
            fat_g=fat_g,
            carbohydrate_g=carbohydrate_g,
            fibre_g=fibre_g,
        )

        nutrients.additional_properties = d
        return nutrients

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
