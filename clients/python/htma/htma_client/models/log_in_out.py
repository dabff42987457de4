from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="LogInOut")


@_attrs_define
class LogInOut:
    """The tokens; after a recovery code, how many unused ones remain.

    Attributes:
        access_token (str):
        refresh_token (str):
        expires_in (int):
        token_type (str | Unset):  Default: 'Bearer'.
        recovery_codes_remaining (int | None | Unset): set when a recovery code was used: unused codes left
    """

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str | Unset = "Bearer"
    recovery_codes_remaining: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        refresh_token = self.refresh_token

        expires_in = self.expires_in

        token_type = self.token_type

        recovery_codes_remaining: int | None | Unset
        if isinstance(self.recovery_codes_remaining, Unset):
            recovery_codes_remaining = UNSET
        else:
            recovery_codes_remaining = self.recovery_codes_remaining

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "expires_in": expires_in,
            }
        )
        if token_type is not UNSET:
            field_dict["token_type"] = token_type
        if recovery_codes_remaining is not UNSET:
            field_dict["recovery_codes_remaining"] = recovery_codes_remaining

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        access_token = d.pop("access_token")

        refresh_token = d.pop("refresh_token")

        expires_in = d.pop("expires_in")

        token_type = d.pop("token_type", UNSET)

        def _parse_recovery_codes_remaining(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        recovery_codes_remaining = _parse_recovery_codes_remaining(d.pop("recovery_codes_remaining", UNSET))

        log_in_out = cls(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=expires_in,
            token_type=token_type,
            recovery_codes_remaining=recovery_codes_remaining,
        )

        log_in_out.additional_properties = d
        return log_in_out

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
