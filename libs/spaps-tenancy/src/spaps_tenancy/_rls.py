"""PostgreSQL row-level security: migration helpers and the per-transaction tenant setting.

The policy compares each row's tenant column with a custom setting
(``current_setting('app.tenant_id', true)``). :func:`install_rls` sets it with
``set_config(..., true)`` -- the function form of ``SET LOCAL`` -- at the start of every
transaction, so the value dies with the transaction and never leaks to the next user of
a pooled connection. With no tenant set the setting is NULL or empty and the policy
matches no row: RLS fails closed.

Owners and superusers bypass policies; ``FORCE ROW LEVEL SECURITY`` makes the policy
apply to the owner too, but superusers and roles with ``BYPASSRLS`` still skip it, so
the application must connect as an ordinary role.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from ._bypass import bypass_active
from ._context import get_tenant
from ._orm import SessionTarget, _check_target

DEFAULT_SETTING = "app.tenant_id"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")


class MigrationOps(Protocol):
    """The part of Alembic's ``op`` the helpers use."""

    def execute(self, sqltext: Any, /) -> Any: ...


def _quote(name: str, what: str) -> str:
    parts = name.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(f"{what} {name!r} is not a plain SQL identifier")
    return ".".join(f'"{p}"' for p in parts)


def _check_setting(setting: str) -> str:
    if not _SETTING.fullmatch(setting):
        raise ValueError(f"setting {setting!r} must look like 'prefix.name'")
    return setting


def rls_statements(
    table: str,
    *,
    column: str = "tenant_id",
    setting: str = DEFAULT_SETTING,
    policy: str = "tenant_isolation",
    force: bool = True,
) -> list[str]:
    """Return the SQL that turns on row-level security for ``table``.

    Args:
        table: Table name, optionally ``schema.table``.
        column: The tenant column the policy compares.
        setting: The custom setting holding the current tenant.
        policy: Policy name.
        force: Also ``FORCE`` RLS so the table owner is filtered too.

    Raises:
        ValueError: A name is not a plain identifier.

    .. versionadded:: 0.1.0
    """
    quoted, col, pol = _quote(table, "table"), _quote(column, "column"), _quote(policy, "policy")
    check = f"{col} = current_setting('{_check_setting(setting)}', true)"
    statements = [f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY"]
    if force:
        statements.append(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
    statements.append(f"CREATE POLICY {pol} ON {quoted} USING ({check}) WITH CHECK ({check})")
    return statements


def enable_rls(
    op: MigrationOps,
    table: str,
    *,
    column: str = "tenant_id",
    setting: str = DEFAULT_SETTING,
    policy: str = "tenant_isolation",
    force: bool = True,
) -> None:
    """Turn on row-level security for ``table`` in an Alembic migration (``upgrade``).

    Args:
        op: Alembic's ``op`` (anything with ``execute(sql)``).
        table: Table name, optionally ``schema.table``.
        column: The tenant column the policy compares.
        setting: The custom setting holding the current tenant.
        policy: Policy name.
        force: Also ``FORCE`` RLS so the table owner is filtered too.

    .. versionadded:: 0.1.0
    """
    for statement in rls_statements(
        table, column=column, setting=setting, policy=policy, force=force
    ):
        op.execute(text(statement))


def disable_rls(op: MigrationOps, table: str, *, policy: str = "tenant_isolation") -> None:
    """Undo :func:`enable_rls` (``downgrade``): drop the policy and turn RLS off.

    Args:
        op: Alembic's ``op``.
        table: Table name, optionally ``schema.table``.
        policy: Policy name given to :func:`enable_rls`.

    .. versionadded:: 0.1.0
    """
    quoted, pol = _quote(table, "table"), _quote(policy, "policy")
    op.execute(text(f"DROP POLICY IF EXISTS {pol} ON {quoted}"))
    op.execute(text(f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY"))
    op.execute(text(f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY"))


def set_tenant_setting(
    connection: Connection, tenant_id: str | None, *, setting: str = DEFAULT_SETTING
) -> None:
    """Set the tenant for the current transaction of ``connection`` (``SET LOCAL``).

    Args:
        connection: A connection inside a transaction.
        tenant_id: The tenant; ``None`` clears it (no row visible).
        setting: The custom setting the policies read.

    .. versionadded:: 0.1.0
    """
    connection.execute(
        text("SELECT set_config(:setting, :tenant, true)"),
        {"setting": _check_setting(setting), "tenant": tenant_id or ""},
    )


def install_rls(target: SessionTarget, *, setting: str = DEFAULT_SETTING) -> None:
    """Set the current tenant at the start of every PostgreSQL transaction of a session.

    Install on the same ``Session`` subclass or ``sessionmaker`` as
    :func:`install_tenant_filter`; for async sessions use the class given as
    ``sync_session_class``. Other dialects are left alone. A session acts for the tenant
    current when its transaction begins: use one session (or transaction) per tenant.

    Args:
        target: A ``Session`` subclass or a ``sessionmaker``.
        setting: The custom setting the policies read.

    .. versionadded:: 0.1.0
    """
    _check_target(target)
    _check_setting(setting)

    def after_begin(
        session: Session, transaction: SessionTransaction, connection: Connection
    ) -> None:
        if connection.dialect.name != "postgresql":
            return
        # Under bypass() the setting stays empty: maintenance that must see every tenant
        # connects as a role with BYPASSRLS instead.
        tenant_id = None if bypass_active() else get_tenant()
        set_tenant_setting(connection, tenant_id, setting=setting)

    event.listen(target, "after_begin", after_begin)
