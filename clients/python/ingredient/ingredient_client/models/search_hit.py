from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SearchHit")


@_attrs_define
class SearchHit:
    """A search or list result; ``score`` is the relevance (higher is better) when searching.

    Attributes:
        code (str):
        name (str):
        scientific_name (None | str):
        food_group (None | str):
        source (str):
        score (float | None | Unset):
    """

    code: str
    name: str
    scientific_name: None | str
    food_group: None | str
    source: str
    score: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        name = self.name

        scientific_name: None | str
        scientific_name = self.scientific_name

        food_group: None | str
        food_group = self.food_group

        source = self.source

        score: float | None | Unset
        if isinstance(self.score, Unset):
            score = UNSET
        else:
            score = self.score

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "name": name,
                "scientific_name": scientific_name,
                "food_group": food_group,
                "source": source,
            }
        )
        if score is not UNSET:
            field_dict["score"] = score

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

        def _parse_score(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        score = _parse_score(d.pop("score", UNSET))

        search_hit = cls(
            code=code,
            name=name,
            scientific_name=scientific_name,
            food_group=food_group,
            source=source,
            score=score,
        )

        search_hit.additional_properties = d
        return search_hit

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
