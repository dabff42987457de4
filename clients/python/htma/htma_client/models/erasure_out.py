from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.erasure_out_kind import ErasureOutKind
from ..models.erasure_out_status import ErasureOutStatus

if TYPE_CHECKING:
    from ..models.erasure_out_counts import ErasureOutCounts


T = TypeVar("T", bound="ErasureOut")


@_attrs_define
class ErasureOut:
    """An erasure request: ``queued``, ``running``, ``done`` or ``failed`` (retried
    until done; ``error`` says why it last failed), with the rows erased per table.

        Attributes:
            id (str):
            kind (ErasureOutKind):
            subject (str):
            status (ErasureOutStatus):
            counts (ErasureOutCounts):
            error (None | str):
            created_at (datetime.datetime):
            started_at (datetime.datetime | None):
            finished_at (datetime.datetime | None):
    """

    id: str
    kind: ErasureOutKind
    subject: str
    status: ErasureOutStatus
    counts: ErasureOutCounts
    error: None | str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        subject = self.subject

        status = self.status.value

        counts = self.counts.to_dict()

        error: None | str
        error = self.error

        created_at = self.created_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "subject": subject,
                "status": status,
                "counts": counts,
                "error": error,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.erasure_out_counts import ErasureOutCounts  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        kind = ErasureOutKind(d.pop("kind"))

        subject = d.pop("subject")

        status = ErasureOutStatus(d.pop("status"))

        counts = ErasureOutCounts.from_dict(d.pop("counts"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        erasure_out = cls(
            id=id,
            kind=kind,
            subject=subject,
            status=status,
            counts=counts,
            error=error,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
        )

        erasure_out.additional_properties = d
        return erasure_out

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
