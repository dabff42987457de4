from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.token_out import TokenOut
    from ..models.user_out import UserOut


T = TypeVar("T", bound="SignUpOut")


@_attrs_define
class SignUpOut:
    """The lab admin created, and a first session.

    Attributes:
        user (UserOut): A user of a clinic.
        tokens (TokenOut): An access token (bearer, short-lived) and its refresh token.
    """

    user: UserOut
    tokens: TokenOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user = self.user.to_dict()

        tokens = self.tokens.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user": user,
                "tokens": tokens,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.token_out import TokenOut  # noqa: PLC0415
        from ..models.user_out import UserOut  # noqa: PLC0415

        d = dict(src_dict)
        user = UserOut.from_dict(d.pop("user"))

        tokens = TokenOut.from_dict(d.pop("tokens"))

        sign_up_out = cls(
            user=user,
            tokens=tokens,
        )

        sign_up_out.additional_properties = d
        return sign_up_out

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
