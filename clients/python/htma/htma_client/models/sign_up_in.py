from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SignUpIn")


@_attrs_define
class SignUpIn:
    """A new clinic and its first lab admin.

    Attributes:
        clinic_id (str):
        clinic_name (str):
        email (str):
        password (str):
        display_name (str):
    """

    clinic_id: str
    clinic_name: str
    email: str
    password: str
    display_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        clinic_id = self.clinic_id

        clinic_name = self.clinic_name

        email = self.email

        password = self.password

        display_name = self.display_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "clinic_id": clinic_id,
                "clinic_name": clinic_name,
                "email": email,
                "password": password,
                "display_name": display_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        clinic_id = d.pop("clinic_id")

        clinic_name = d.pop("clinic_name")

        email = d.pop("email")

        password = d.pop("password")

        display_name = d.pop("display_name")

        sign_up_in = cls(
            clinic_id=clinic_id,
            clinic_name=clinic_name,
            email=email,
            password=password,
            display_name=display_name,
        )

        sign_up_in.additional_properties = d
        return sign_up_in

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
