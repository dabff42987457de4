"""Audit records for actions that step outside normal tenant isolation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

_LOGGER = logging.getLogger("spaps_tenancy.audit")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited action.

    Args:
        action: What happened: ``"bypass"``, ``"erase"``, ``"export"`` or ``"import"``.
        reason: Why, as given by the caller.
        actor: Who did it (user id, service name, ``"cli"``), when known.
        tenant_id: The tenant concerned, when there is one.
        details: Extra facts (row counts per table, …).
        at: When it happened (UTC).
    """

    action: str
    reason: str
    actor: str | None = None
    tenant_id: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


AuditSink = Callable[[AuditRecord], None]
"""Receives every :class:`AuditRecord`; store it, log it or forward it."""


def log_audit_record(record: AuditRecord) -> None:
    """The default :data:`AuditSink`: a WARNING on the ``spaps_tenancy.audit`` logger.

    Args:
        record: The record to write.
    """
    _LOGGER.warning(
        "tenancy audit: %s tenant=%s actor=%s reason=%s details=%s",
        record.action,
        record.tenant_id,
        record.actor,
        record.reason,
        dict(record.details),
        extra={"audit": record},
    )
