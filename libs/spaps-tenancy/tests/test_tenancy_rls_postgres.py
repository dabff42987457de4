"""PostgreSQL row-level security as the second wall, proven through a NON-owner role."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spaps_tenancy import (
    TenantSession,
    disable_rls,
    enable_rls,
    install_rls,
    rls_statements,
    set_tenant_setting,
    tenant_context,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

pytestmark = pytest.mark.postgres


@pytest.fixture
def rls_db(
    postgres_url: str,
    app_role: str,
    grant_app_role: Callable[[], None],
    orm: SimpleNamespace,
    pg_url: Callable[[str, str], str],
) -> Iterator[SimpleNamespace]:
    """Schema created and RLS enabled by the owner (through Alembic ops); app-role engine."""
    owner = create_engine(pg_url(postgres_url, "psycopg"))
    orm.Base.metadata.create_all(owner)
    with owner.begin() as connection:
        op = Operations(MigrationContext.configure(connection))
        for table in ("patients", "notes"):
            enable_rls(op, table)
    grant_app_role()
    app = create_engine(
        pg_url(app_role, "psycopg"), poolclass=QueuePool, pool_size=1, max_overflow=0
    )
    try:
        yield SimpleNamespace(owner=owner, app=app)
    finally:
        app.dispose()
        owner.dispose()


def _insert(engine: Engine, tenant: str, *names: str) -> None:
    with engine.begin() as connection:
        set_tenant_setting(connection, tenant)
        for name in names:
            connection.execute(
                text("INSERT INTO patients (name, score, tenant_id) VALUES (:n, 0, :t)"),
                {"n": name, "t": tenant},
            )


def test_raw_sql_sees_only_current_tenant(rls_db: SimpleNamespace) -> None:
    _insert(rls_db.app, "acme", "a1", "a2")
    _insert(rls_db.app, "zeta", "z1")
    with rls_db.app.begin() as connection:
        set_tenant_setting(connection, "acme")
        assert connection.execute(
            text("SELECT name FROM patients ORDER BY name")
        ).scalars().all() == [
            "a1",
            "a2",
        ]
        # Updates and deletes without any WHERE reach the current tenant only.
        assert connection.execute(text("UPDATE patients SET score = 9")).rowcount == 2
        assert connection.execute(text("DELETE FROM patients WHERE name = 'z1'")).rowcount == 0
    # No tenant set: nothing is visible (fails closed), also on a reused pooled connection.
    with rls_db.app.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM patients")).scalar() == 0
    # The owner connects as a superuser, which RLS does not apply to: it sees every row.
    with rls_db.owner.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM patients")).scalar() == 3


def test_writing_another_tenants_row_is_refused(rls_db: SimpleNamespace) -> None:
    with rls_db.app.begin() as connection:
        set_tenant_setting(connection, "acme")
        with pytest.raises(ProgrammingError, match="row-level security"):
            connection.execute(
                text("INSERT INTO patients (name, score, tenant_id) VALUES ('x', 0, 'zeta')")
            )


def test_set_local_does_not_leak_across_pooled_connections(rls_db: SimpleNamespace) -> None:
    _insert(rls_db.app, "acme", "a1")
    # pool_size=1: the second block reuses the very connection of the first.
    with rls_db.app.begin() as connection:
        set_tenant_setting(connection, "acme")
        first_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    with rls_db.app.begin() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() == first_pid
        assert connection.execute(
            text("SELECT current_setting('app.tenant_id', true)")
        ).scalar() in ("", None)
        assert connection.execute(text("SELECT count(*) FROM patients")).scalar() == 0


def test_session_hook_sets_tenant_per_transaction(
    rls_db: SimpleNamespace, orm: SimpleNamespace
) -> None:
    class RlsOnlySession(TenantSession):
        """RLS only, without the ORM filter."""

    install_rls(RlsOnlySession)
    factory = sessionmaker(rls_db.app, class_=RlsOnlySession)
    _insert(rls_db.app, "acme", "a1")
    _insert(rls_db.app, "zeta", "z1", "z2")
    for tenant, expected in (("acme", 1), ("zeta", 2)):
        with tenant_context(tenant), factory() as session:
            # Raw SQL through the session: no ORM filter is involved, only RLS.
            assert session.execute(text("SELECT count(*) FROM patients")).scalar() == expected
    with factory() as session:
        assert session.execute(text("SELECT count(*) FROM patients")).scalar() == 0


async def test_async_session_hook_with_asyncpg(
    rls_db: SimpleNamespace, orm: SimpleNamespace, app_role: str, pg_url: Callable[[str, str], str]
) -> None:
    class AsyncRlsSession(orm.Session):  # type: ignore[misc, name-defined]  # the suite's filtered session
        pass

    install_rls(AsyncRlsSession)
    engine = create_async_engine(pg_url(app_role, "asyncpg"))
    try:
        factory = async_sessionmaker(engine, sync_session_class=AsyncRlsSession)
        with tenant_context("acme"):
            async with factory() as session:
                session.add(orm.Patient(name="async-a"))
                await session.commit()
        with tenant_context("zeta"):
            async with factory() as session:
                assert (await session.execute(text("SELECT count(*) FROM patients"))).scalar() == 0
        with tenant_context("acme"):
            async with factory() as session:
                assert (
                    await session.execute(text("SELECT name FROM patients"))
                ).scalars().all() == ["async-a"]
    finally:
        await engine.dispose()


def test_alembic_downgrade_turns_rls_off(rls_db: SimpleNamespace) -> None:
    _insert(rls_db.app, "acme", "a1")
    with rls_db.owner.begin() as connection:
        op = Operations(MigrationContext.configure(connection))
        disable_rls(op, "patients")
        policies = connection.execute(
            text("SELECT count(*) FROM pg_policies WHERE tablename = 'patients'")
        )
        assert policies.scalar() == 0
    with rls_db.app.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM patients")).scalar() == 1


def test_rls_statements_reject_unsafe_names() -> None:
    assert rls_statements("clinic.patients", force=False) == [
        'ALTER TABLE "clinic"."patients" ENABLE ROW LEVEL SECURITY',
        'CREATE POLICY "tenant_isolation" ON "clinic"."patients" USING '
        "(\"tenant_id\" = current_setting('app.tenant_id', true)) WITH CHECK "
        "(\"tenant_id\" = current_setting('app.tenant_id', true))",
    ]
    with pytest.raises(ValueError, match="identifier"):
        rls_statements("patients; DROP TABLE x")
    with pytest.raises(ValueError, match="setting"):
        rls_statements("patients", setting="tenant')--")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["t0", "t1", "t2"]), st.integers(0, 5)), max_size=10),
    actor=st.sampled_from(["t0", "t1", "t2"]),
    threshold=st.integers(0, 5),
)
def test_property_raw_sql_never_crosses_tenants(
    rls_db: SimpleNamespace, rows: list[tuple[str, int]], actor: str, threshold: int
) -> None:
    with rls_db.owner.begin() as connection:
        connection.execute(text("DELETE FROM notes"))
        connection.execute(text("DELETE FROM patients"))
        for number, (tenant, score) in enumerate(rows):
            connection.execute(
                text("INSERT INTO patients (name, score, tenant_id) VALUES (:n, :s, :t)"),
                {"n": f"p{number}", "s": score, "t": tenant},
            )
    expected = sorted(f"p{n}" for n, (t, s) in enumerate(rows) if t == actor and s >= threshold)
    others_before = sorted((f"p{n}", s) for n, (t, s) in enumerate(rows) if t != actor)
    with rls_db.app.begin() as connection:
        set_tenant_setting(connection, actor)
        seen = connection.execute(
            text("SELECT name, tenant_id FROM patients WHERE score >= :s"), {"s": threshold}
        ).all()
        assert sorted(name for name, _ in seen) == expected
        assert {tenant for _, tenant in seen} <= {actor}
        connection.execute(text("UPDATE patients SET score = score + 10"))
        connection.execute(text("DELETE FROM patients WHERE score >= :s"), {"s": threshold + 10})
    with rls_db.owner.connect() as connection:
        others_after = connection.execute(
            text("SELECT name, score FROM patients WHERE tenant_id <> :t ORDER BY name"),
            {"t": actor},
        ).all()
    assert sorted(tuple(row) for row in others_after) == others_before


def test_concurrent_tenants_on_threads_stay_apart(
    rls_db: SimpleNamespace, orm: SimpleNamespace
) -> None:
    class ThreadSession(orm.Session):  # type: ignore[misc, name-defined]  # the suite's filtered session
        pass

    install_rls(ThreadSession)
    factory = sessionmaker(rls_db.app, class_=ThreadSession)
    _insert(rls_db.app, "acme", "a1")
    _insert(rls_db.app, "zeta", "z1", "z2")
    seen: dict[str, set[int]] = {"acme": set(), "zeta": set()}

    def work(tenant: str) -> None:
        for _ in range(10):
            with tenant_context(tenant), factory() as session:
                seen[tenant].add(
                    int(session.execute(text("SELECT count(*) FROM patients")).scalar_one())
                )

    threads = [threading.Thread(target=work, args=(t,)) for t in ("acme", "zeta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == {"acme": {1}, "zeta": {2}}
