from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ingredient_patch_minerals import IngredientPatchMinerals


T = TypeVar("T", bound="IngredientPatch")


@_attrs_define
class IngredientPatch:
    """Fields to change; omitted fields stay as they are. Amounts per 100 g.

    Attributes:
        name (None | str | Unset):
        scientific_name (None | str | Unset):
        local_names (None | str | Unset):
        food_group (None | str | Unset):
        energy_kj (float | None | Unset):
        water_g (float | None | Unset):
        protein_g (float | None | Unset):
        fat_g (float | None | Unset):
        carbohydrate_g (float | None | Unset):
        fibre_g (float | None | Unset):
        minerals (IngredientPatchMinerals | Unset): symbol -> mg per 100 g (null clears)
    """

    name: None | str | Unset = UNSET
    scientific_name: None | str | Unset = UNSET
    local_names: None | str | Unset = UNSET
    food_group: None | str | Unset = UNSET
    energy_kj: float | None | Unset = UNSET
    water_g: float | None | Unset = UNSET
    protein_g: float | None | Unset = UNSET
    fat_g: float | None | Unset = UNSET
    carbohydrate_g: float | None | Unset = UNSET
    fibre_g: float | None | Unset = UNSET
    minerals: IngredientPatchMinerals | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        scientific_name: None | str | Unset
        if isinstance(self.scientific_name, Unset):
            scientific_name = UNSET
        else:
            scientific_name = self.scientific_name

        local_names: None | str | Unset
        if isinstance(self.local_names, Unset):
            local_names = UNSET
        else:
            local_names = self.local_names

        food_group: None | str | Unset
        if isinstance(self.food_group, Unset):
            food_group = UNSET
        else:
            food_group = self.food_group

        energy_kj: float | None | Unset
        if isinstance(self.energy_kj, Unset):
            energy_kj = UNSET
        else:
            energy_kj = self.energy_kj

        water_g: float | None | Unset
        if isinstance(self.water_g, Unset):
            water_g = UNSET
        else:
            water_g = self.water_g

        protein_g: float | None | Unset
        if isinstance(self.protein_g, Unset):
            protein_g = UNSET
        else:
            protein_g = self.protein_g

        fat_g: float | None | Unset
        if isinstance(self.fat_g, Unset):
            fat_g = UNSET
        else:
            fat_g = self.fat_g

        carbohydrate_g: float | None | Unset
        if isinstance(self.carbohydrate_g, Unset):
            carbohydrate_g = UNSET
        else:
            carbohydrate_g = self.carbohydrate_g

        fibre_g: float | None | Unset
        if isinstance(self.fibre_g, Unset):
            fibre_g = UNSET
        else:
            fibre_g = self.fibre_g

        minerals: dict[str, Any] | Unset = UNSET
        if not isinstance(self.minerals, Unset):
            minerals = self.minerals.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if scientific_name is not UNSET:
            field_dict["scientific_name"] = scientific_name
        if local_names is not UNSET:
            field_dict["local_names"] = local_names
        if food_group is not UNSET:
            field_dict["food_group"] = food_group
        if energy_kj is not UNSET:
            field_dict["energy_kj"] = energy_kj
        if water_g is not UNSET:
            field_dict["water_g"] = water_g
        if protein_g is not UNSET:
            field_dict["protein_g"] = protein_g
        if fat_g is not UNSET:
            field_dict["fat_g"] = fat_g
        if carbohydrate_g is not UNSET:
            field_dict["carbohydrate_g"] = carbohydrate_g
        if fibre_g is not UNSET:
            field_dict["fibre_g"] = fibre_g
        if minerals is not UNSET:
            field_dict["minerals"] = minerals

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ingredient_patch_minerals import IngredientPatchMinerals  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_scientific_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        scientific_name = _parse_scientific_name(d.pop("scientific_name", UNSET))

        def _parse_local_names(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        local_names = _parse_local_names(d.pop("local_names", UNSET))

        def _parse_food_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        food_group = _parse_food_group(d.pop("food_group", UNSET))

        def _parse_energy_kj(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy_kj = _parse_energy_kj(d.pop("energy_kj", UNSET))

        def _parse_water_g(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        water_g = _parse_water_g(d.pop("water_g", UNSET))

        def _parse_protein_g(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        protein_g = _parse_protein_g(d.pop("protein_g", UNSET))

        def _parse_fat_g(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        fat_g = _parse_fat_g(d.pop("fat_g", UNSET))

        def _parse_carbohydrate_g(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        carbohydrate_g = _parse_carbohydrate_g(d.pop("carbohydrate_g", UNSET))

        def _parse_fibre_g(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        fibre_g = _parse_fibre_g(d.pop("fibre_g", UNSET))

        _minerals = d.pop("minerals", UNSET)
        minerals: IngredientPatchMinerals | Unset
        if isinstance(_minerals, Unset):
            minerals = UNSET
        else:
            minerals = IngredientPatchMinerals.from_dict(_minerals)

        ingredient_patch = cls(
            name=name,
            scientific_name=scientific_name,
            local_names=local_names,
            food_group=food_group,
            energy_kj=energy_kj,
            water_g=water_g,
            protein_g=protein_g,
            fat_g=fat_g,
            carbohydrate_g=carbohydrate_g,
            fibre_g=fibre_g,
            minerals=minerals,
        )

        return ingredient_patch
