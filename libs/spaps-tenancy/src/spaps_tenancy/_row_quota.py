"""Per-tenant row quotas, checked before a flush inserts new rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import event, func, select
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
    that inserts ``model`` rows. Two concurrent transactions may each pass the check;
    back a hard limit with a database constraint or serialise the inserts.

    Args:
        target: A ``Session`` subclass or ``sessionmaker`` (as for ``install_tenant_filter``).
        model: A :class:`TenantScoped` model.
        limit: A fixed maximum, or a callable giving each tenant's maximum (its plan).

    Raises:
        TypeError: ``model`` is not tenant-scoped or ``limit`` has the wrong type.
        ValueError: A fixed ``limit`` is negative.

    .. versionadded:: 0.1.0
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

    def before_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
        adding: Counter[str] = Counter()
        for obj in session.new:
            if isinstance(obj, model):
                tenant_id = obj.__dict__.get("tenant_id") or get_tenant()
                if tenant_id is not None:
                    adding[tenant_id] += 1
        for tenant_id, count in adding.items():
            maximum = limit_of(tenant_id)
            if maximum is None:
                continue
            with session.no_autoflush:
                existing = session.execute(
                    select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
                ).scalar_one()
            if existing + count > maximum:
                raise RowQuotaExceededError(
                    f"tenant may store at most {maximum} {model.__name__} rows",
                    extensions={"limit": maximum, "model": model.__name__},
                )

    event.listen(target, "before_flush", before_flush)
