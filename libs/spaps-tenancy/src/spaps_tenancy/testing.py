"""Test helpers for code that uses spaps-tenancy."""

from __future__ import annotations

from ._audit import AuditRecord


class RecordingAuditSink:
    """An :data:`~spaps_tenancy.AuditSink` that keeps every record in ``records``.

    .. versionadded:: 0.1.0
    """

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def __call__(self, record: AuditRecord) -> None:
        self.records.append(record)

    def actions(self) -> list[str]:
        """Return the actions recorded so far, in order."""
        return [record.action for record in self.records]


__all__ = ["RecordingAuditSink"]
