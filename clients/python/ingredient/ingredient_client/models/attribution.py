from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Attribution")


@_attrs_define
class Attribution:
    """Where the seed catalog comes from and under which licence.

    Attributes:
        source (str):
        publisher (str):
        dataset (str):
        licence (str):
        changes (str):
        licence_text (str):
    """

    source: str
    publisher: str
    dataset: str
    licence: str
    changes: str
    licence_text: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        source = self.source

        publisher = self.publisher

        dataset = self.dataset

        licence = self.licence

        changes = self.changes

        licence_text = self.licence_text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "source": source,
                "publisher": publisher,
                "dataset": dataset,
                "licence": licence,
                "changes": changes,
                "licence_text": licence_text,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        source = d.pop("source")

        publisher = d.pop("publisher")

        dataset = d.pop("dataset")

        licence = d.pop("licence")

        changes = d.pop("changes")

        licence_text = d.pop("licence_text")

        attribution = cls(
            source=source,
            publisher=publisher,
            dataset=dataset,
            licence=licence,
            changes=changes,
            licence_text=licence_text,
        )

        attribution.additional_properties = d
        return attribution

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
