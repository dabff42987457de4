"""Per-tenant row quotas, checked before a flush inserts new rows.

The check counts the tenant's rows, so it never drifts from what the table holds (rows
deleted by raw SQL, an erasure or a cascade free their slots at once). To make the count
and the insert one step, the count runs under a lock that is held until the transaction
ends: a concurrent transaction of the same tenant and table waits for it, then counts the
rows it committed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Connection, Table, event, false, func, inspect, select, text, update
from sqlalchemy.orm import Session, UOWTransaction

from ._context import get_tenant
from ._errors import RowQuotaExceededError
from ._orm import SessionTarget, TenantScoped, _check_target

RowLimit = Callable[[str], int | None]
"""Returns the maximum number of rows a tenant may store (``None``: unlimited)."""


def install_row_quota(
    target: SessionTarget, model: type[TenantScoped], *, limit: int | RowLimit
) -> None:
    """Refuse a flush that would store more than ``limit`` rows of ``model`` for a tenant.

    The check counts the tenant's existing rows with one ``SELECT count(*)`` per flush
    that inserts ``model`` rows, under a lock held until the transaction ends, so two
    concurrent transactions cannot both take the last slot:

    * PostgreSQL: ``pg_advisory_xact_lock`` keyed by the table and the tenant (other
      tenants and tables do not wait). Under ``READ COMMITTED`` (the default) the waiting
      transaction then counts the rows the first one committed; under ``SERIALIZABLE`` one
      of the two fails with a serialisation error to retry. ``REPEATABLE READ`` is not
      supported: its snapshot may predate the lock.
    * SQLite: the database's write lock is taken (a no-op ``UPDATE``) before counting;
      SQLite serialises writers, so the count sees every committed row.
    * Other databases: the count is not serialised; back a hard limit with a constraint.

    Args:
        target: A ``Session`` subclass or ``sessionmaker`` (as for ``install_tenant_filter``).
        model: A :class:`TenantScoped` model.
        limit: A fixed maximum, or a callable giving each tenant's maximum (its plan).

    Raises:
        TypeError: ``model`` is not tenant-scoped or ``limit`` has the wrong type.
        ValueError: A fixed ``limit`` is negative.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.1
       The check is atomic on PostgreSQL and SQLite (it was count-then-insert).
    """
    _check_target(target)
    if not (isinstance(model, type) and issubclass(model, TenantScoped)):
        raise TypeError("model must be a TenantScoped ORM class")
    if isinstance(limit, bool) or not (isinstance(limit, int) or callable(limit)):
        raise TypeError("limit must be an int or a callable")
    if isinstance(limit, int) and limit < 0:
        raise ValueError("limit must be >= 0")
    fixed = limit if isinstance(limit, int) else None
    limit_of: RowLimit = (lambda _tenant: fixed) if fixed is not None else limit  # type: ignore[assignment]  # narrowed above: callable when not int

    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError("model must be mapped to a Table")

    def before_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
        adding: Counter[str] = Counter()
        for obj in session.new:
            if isinstance(obj, model):
                tenant_id = obj.__dict__.get("tenant_id") or get_tenant()
                if tenant_id is not None:
                    adding[tenant_id] += 1
        # Sorted, so two flushes locking several tenants take the locks in one order.
        for tenant_id, count in sorted(adding.items()):
            maximum = limit_of(tenant_id)
            if maximum is None:
                continue
            with session.no_autoflush:
                _serialise(session.connection(), table, tenant_id)
                existing = session.execute(
                    select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
                ).scalar_one()
            if existing + count > maximum:
                raise RowQuotaExceededError(
                    f"tenant may store at most {maximum} {model.__name__} rows",
                    extensions={"limit": maximum, "model": model.__name__},
                )

    event.listen(target, "before_flush", before_flush)


def _lock_key(table: Table, tenant_id: str) -> int:
    """A signed 64-bit advisory lock key for (table, tenant); collisions only over-serialise."""
    digest = hashlib.blake2b(
        f"spaps_tenancy.row_quota\0{table.fullname}\0{tenant_id}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def _serialise(connection: Connection, table: Table, tenant_id: str) -> None:
    """Take the lock the quota check of (table, tenant) runs under, until the transaction ends."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(table, tenant_id)}
        )
    elif dialect == "sqlite":
        # A write statement takes SQLite's database write lock even when it matches no row
        # (and fires no trigger): later writers wait, and this transaction's count is final.
        tenant_column = table.c.tenant_id
        connection.execute(update(table).where(false()).values({tenant_column: tenant_column}))
