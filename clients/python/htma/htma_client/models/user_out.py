from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.user_out_role import UserOutRole

T = TypeVar("T", bound="UserOut")


@_attrs_define
class UserOut:
    """A user of a clinic.

    Attributes:
        id (str):
        clinic_id (str):
        email (str):
        display_name (str):
        role (UserOutRole):
    """

    id: str
    clinic_id: str
    email: str
    display_name: str
    role: UserOutRole
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        clinic_id = self.clinic_id

        email = self.email

        display_name = self.display_name

        role = self.role.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "clinic_id": clinic_id,
                "email": email,
                "display_name": display_name,
                "role": role,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        clinic_id = d.pop("clinic_id")

        email = d.pop("email")

        display_name = d.pop("display_name")

        role = UserOutRole(d.pop("role"))

        user_out = cls(
            id=id,
            clinic_id=clinic_id,
            email=email,
            display_name=display_name,
            role=role,
        )

        user_out.additional_properties = d
        return user_out

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
