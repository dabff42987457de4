from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.attempt import Attempt
    from ..models.delivery import Delivery


T = TypeVar("T", bound="FireResult")


@_attrs_define
class FireResult:
    """What test-fire did: the message sent and the attempt it made.

    Attributes:
        message_id (str):
        delivery (Delivery): The state of one message's delivery to one endpoint.
        attempt (Attempt | None):
    """

    message_id: str
    delivery: Delivery
    attempt: Attempt | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.attempt import Attempt  # noqa: PLC0415

        message_id = self.message_id

        delivery = self.delivery.to_dict()

        attempt: dict[str, Any] | None
        if isinstance(self.attempt, Attempt):
            attempt = self.attempt.to_dict()
        else:
            attempt = self.attempt

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message_id": message_id,
                "delivery": delivery,
                "attempt": attempt,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt import Attempt  # noqa: PLC0415
        from ..models.delivery import Delivery  # noqa: PLC0415

        d = dict(src_dict)
        message_id = d.pop("message_id")

        delivery = Delivery.from_dict(d.pop("delivery"))

        def _parse_attempt(data: object) -> Attempt | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                attempt_type_0 = Attempt.from_dict(data)

                return attempt_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Attempt | None, data)

        attempt = _parse_attempt(d.pop("attempt"))

        fire_result = cls(
            message_id=message_id,
            delivery=delivery,
            attempt=attempt,
        )

        fire_result.additional_properties = d
        return fire_result

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
