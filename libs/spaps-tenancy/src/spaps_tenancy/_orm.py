"""Automatic tenant filtering and stamping for SQLAlchemy 2 ORM sessions.

``install_tenant_filter(target)`` adds two session event listeners:

* ``do_orm_execute`` adds ``with_loader_criteria(TenantScoped, tenant_id == :tenant)``
  to every ORM SELECT, UPDATE and DELETE, so the filter reaches joins, aliased entities,
  relationship loads (lazy, joined, selectin) and bulk ``update()``/``delete()``. The
  bound value is read from the tenant context when the statement executes; with no
  tenant set, computing it raises :class:`TenantContextError`, so a statement touching
  any tenant-scoped table fails while a statement on global tables runs normally.
* ``before_flush`` stamps new tenant-scoped rows with the current tenant and refuses to
  insert, update or delete a row of another tenant (:class:`CrossTenantWriteError`).

Raw SQL (``text()``) and Core statements on ``Table`` objects are outside the ORM and
are not filtered: PostgreSQL row-level security (see ``install_rls``) covers them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, event, inspect
from sqlalchemy.engine import Result
from sqlalchemy.exc import NoResultFound, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)

from ._bypass import bypass_active
from ._context import get_tenant
from ._errors import CrossTenantWriteError, TenantContextError

SessionTarget = type[Session] | sessionmaker[Any]
"""Where session hooks are installed: a ``Session`` subclass or a ``sessionmaker``."""


class TenantScoped:
    """Mixin for ORM models whose rows belong to one tenant.

    Adds an indexed, non-null ``tenant_id`` column. Rows are filtered and stamped by the
    hooks of :func:`install_tenant_filter`.

    .. versionadded:: 0.1.0
    """

    tenant_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)


def _raise_no_tenant() -> str:
    raise TenantContextError(
        "a tenant-scoped table was queried with no tenant set; "
        "use tenant_context() or bypass(reason=...)"
    )


def _tenant_value() -> str:
    tenant_id = get_tenant()
    return _raise_no_tenant() if tenant_id is None else tenant_id


# One criteria object for every statement: its bound value is computed from the tenant
# context each time a statement executes, so the compiled SQL and its cache key never
# change (no per-query lambda analysis), and a statement touching a tenant-scoped table
# with no tenant set fails at execution. Statements on global tables never render it.
_TENANT_PARAM = bindparam("spaps_tenant_id", callable_=_tenant_value, type_=String())
_TENANT_CRITERIA = with_loader_criteria(
    TenantScoped,
    lambda cls: cls.tenant_id == _TENANT_PARAM,
    include_aliases=True,
    propagate_to_loaders=True,
)


_SESSION_TENANT = "spaps_tenancy.tenant"


def _bind_session(session: Session, tenant_id: str) -> None:
    # A session's identity map keeps the objects of the tenant it served; serving a second
    # tenant from it could hand those objects out without SQL. One session, one tenant.
    bound = session.info.setdefault(_SESSION_TENANT, tenant_id)
    if bound != tenant_id:
        raise TenantContextError(
            f"this session already served tenant {bound!r}; use one session per tenant"
        )


def _on_orm_execute(state: ORMExecuteState) -> Result[Any] | None:
    if not (state.is_select or state.is_update or state.is_delete):
        return None
    # Refreshing columns of an object already in the identity map is keyed by its
    # primary key; it cannot reach another tenant's row.
    if state.is_column_load or bypass_active():
        return None
    # Relationship loads get the criteria too: objects loaded under bypass() carry no
    # propagated criteria, and their lazy loads must still be filtered.
    state.statement = state.statement.options(_TENANT_CRITERIA)
    tenant_id = get_tenant()
    if tenant_id is not None:
        _bind_session(state.session, tenant_id)
        return None
    try:
        return state.invoke_statement()
    except StatementError as exc:
        # Unwrap the error raised while computing the bound value.
        if isinstance(exc.orig, TenantContextError):
            raise exc.orig from None
        raise


def _before_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    bypassed = bypass_active()
    tenant_id = get_tenant()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        # The attribute is typed ``str`` but is ``None`` until stamped.
        if inspect(obj).attrs.tenant_id.value is None:
            if tenant_id is None:
                raise TenantContextError(
                    f"cannot insert {type(obj).__name__} without a tenant: "
                    "set one with tenant_context() or give tenant_id explicitly under bypass()"
                )
            obj.tenant_id = tenant_id
        elif not bypassed:
            _check_owner(obj, tenant_id, "insert")
    if bypassed:
        return
    if tenant_id is not None:
        _bind_session(session, tenant_id)
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and session.is_modified(obj):
            if inspect(obj).attrs.tenant_id.history.has_changes():
                raise CrossTenantWriteError(f"cannot move a {type(obj).__name__} to another tenant")
            _check_owner(obj, tenant_id, "update")
    for obj in session.deleted:
        if isinstance(obj, TenantScoped):
            _check_owner(obj, tenant_id, "delete")


def _check_owner(obj: TenantScoped, tenant_id: str | None, verb: str) -> None:
    if tenant_id is None:
        raise TenantContextError(f"cannot {verb} {type(obj).__name__} with no tenant set")
    if obj.tenant_id != tenant_id:
        raise CrossTenantWriteError(f"cannot {verb} a {type(obj).__name__} of another tenant")


def _check_target(target: object) -> None:
    if isinstance(target, async_sessionmaker) or (
        isinstance(target, type) and issubclass(target, AsyncSession)
    ):
        raise TypeError(
            "install on the sync Session class used by async sessions: "
            "async_sessionmaker(engine, sync_session_class=YourSession)"
        )
    if not (
        isinstance(target, sessionmaker)
        or (isinstance(target, type) and issubclass(target, Session))
    ):
        raise TypeError("target must be a Session subclass or a sessionmaker")


class TenantSession(Session):
    """A ``Session`` whose ``get()`` also checks objects found in the identity map.

    ``Session.get`` answers from the identity map without SQL, so an object loaded under
    :func:`bypass` (or for another tenant earlier in the same session) would be returned
    unfiltered. This class hides such objects (``get`` returns ``None``, ``get_one``
    raises ``NoResultFound``). Subclass it and pass it to :func:`install_tenant_filter`.

    .. versionadded:: 0.1.0
    """

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        return _visible(super().get(entity, ident, **kwargs))

    def get_one(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        found = _visible(super().get_one(entity, ident, **kwargs))
        if found is None:
            raise NoResultFound("No row was found when one was required")
        return found


def _visible(obj: Any) -> Any:
    if obj is None or not isinstance(obj, TenantScoped) or bypass_active():
        return obj
    tenant_id = get_tenant()
    if tenant_id is None:
        _raise_no_tenant()
    return obj if obj.tenant_id == tenant_id else None


def install_tenant_filter(target: SessionTarget) -> None:
    """Filter and stamp tenant-scoped rows for every session made from ``target``.

    Install on a subclass of :class:`TenantSession` (pass it to
    ``sessionmaker(class_=...)`` or ``async_sessionmaker(sync_session_class=...)``) or on
    a ``sessionmaker`` of one. Installing twice is a no-op. A session serves one tenant:
    using it for a second tenant raises :class:`TenantContextError`, because its
    identity map still holds the first tenant's objects (work under :func:`bypass` is
    not bound to a tenant).

    Args:
        target: A ``Session`` subclass or a ``sessionmaker``.

    Raises:
        TypeError: ``target`` is an async session class or factory, or not a session target.

    .. versionadded:: 0.1.0
    """
    _check_target(target)
    if not event.contains(target, "do_orm_execute", _on_orm_execute):
        event.listen(target, "do_orm_execute", _on_orm_execute)
    if not event.contains(target, "before_flush", _before_flush):
        event.listen(target, "before_flush", _before_flush)
