"""An explicit, audited way to step outside tenant isolation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._audit import AuditRecord, AuditSink, log_audit_record
from ._context import get_tenant

_BYPASS: ContextVar[bool] = ContextVar("spaps_tenancy_bypass", default=False)


@contextmanager
def bypass(
    *, reason: str, actor: str | None = None, audit: AuditSink | None = None
) -> Iterator[None]:
    """Turn off the automatic tenant filter for the block (admin and maintenance work).

    Inside the block ORM queries see every tenant's rows and flushes may write rows of
    any tenant; inserts must still carry an explicit ``tenant_id``. Entering the block
    emits an :class:`AuditRecord` with action ``"bypass"``.

    Args:
        reason: Why isolation is lifted (required, goes to the audit record).
        actor: Who lifts it, when known.
        audit: Where the record goes; defaults to :func:`log_audit_record`.

    Raises:
        ValueError: ``reason`` is empty.

    .. versionadded:: 0.1.0
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("bypass() needs a non-empty reason for the audit trail")
    sink = audit or log_audit_record
    sink(AuditRecord(action="bypass", reason=reason, actor=actor, tenant_id=get_tenant()))
    token = _BYPASS.set(True)
    try:
        yield
    finally:
        _BYPASS.reset(token)


def bypass_active() -> bool:
    """Return whether the code runs inside :func:`bypass`.

    .. versionadded:: 0.1.0
    """
    return _BYPASS.get()
