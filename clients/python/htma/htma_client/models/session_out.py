from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SessionOut")


@_attrs_define
class SessionOut:
    """One of the caller's sessions.

    Attributes:
        id (str):
        created_at (str):
        last_seen_at (str):
        user_agent (str):
        ip (str):
        current (bool):
    """

    id: str
    created_at: str
    last_seen_at: str
    user_agent: str
    ip: str
    current: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        created_at = self.created_at

        last_seen_at = self.last_seen_at

        user_agent = self.user_agent

        ip = self.ip

        current = self.current

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "last_seen_at": last_seen_at,
                "user_agent": user_agent,
                "ip": ip,
                "current": current,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        created_at = d.pop("created_at")

        last_seen_at = d.pop("last_seen_at")

        user_agent = d.pop("user_agent")

        ip = d.pop("ip")

        current = d.pop("current")

        session_out = cls(
            id=id,
            created_at=created_at,
            last_seen_at=last_seen_at,
            user_agent=user_agent,
            ip=ip,
            current=current,
        )

        session_out.additional_properties = d
        return session_out

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
