"""The automatic ORM filter and stamping on SQLite (sync and async sessions)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from spaps_tenancy import (
    CrossTenantWriteError,
    TenantContextError,
    bypass,
    install_tenant_filter,
    tenant_context,
)
from spaps_tenancy.testing import RecordingAuditSink
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, aliased, joinedload, selectinload, sessionmaker

MakeSession = Callable[[], Session]


def seed(make_session: MakeSession, orm: SimpleNamespace) -> dict[str, list[int]]:
    """Two tenants with two patients and a note each; returns patient ids per tenant."""
    ids: dict[str, list[int]] = {}
    for tenant in ("acme", "zeta"):
        with tenant_context(tenant), make_session() as session:
            patients = [orm.Patient(name=f"{tenant}-{i}", score=i) for i in range(2)]
            for patient in patients:
                patient.notes.append(orm.Note(body=f"note of {patient.name}"))
            session.add_all(patients)
            session.commit()
            ids[tenant] = [p.id for p in patients]
    with make_session() as session:
        session.add(orm.Plan(name="free"))
        session.commit()
    return ids


def test_select_sees_only_current_tenant(make_session: MakeSession, orm: SimpleNamespace) -> None:
    ids = seed(make_session, orm)
    with tenant_context("acme"), make_session() as session:
        names = session.scalars(select(orm.Patient.name).order_by(orm.Patient.id)).all()
        assert names == ["acme-0", "acme-1"]
        assert session.scalar(select(func.count()).select_from(orm.Note)) == 2
        assert session.get(orm.Patient, ids["zeta"][0]) is None
        assert session.get(orm.Patient, ids["acme"][0]) is not None


def test_inserts_are_stamped(make_session: MakeSession, orm: SimpleNamespace) -> None:
    seed(make_session, orm)
    with make_session() as session, bypass(reason="test check", audit=RecordingAuditSink()):
        rows = session.execute(select(orm.Note.body, orm.Note.tenant_id)).all()
    assert {(body.split()[-1].split("-")[0], tenant) for body, tenant in rows} == {
        ("acme", "acme"),
        ("zeta", "zeta"),
    }


def test_joins_aliases_and_subqueries_are_filtered(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    seed(make_session, orm)
    with tenant_context("zeta"), make_session() as session:
        joined = session.execute(
            select(orm.Patient.name, orm.Note.body).join(orm.Patient.notes)
        ).all()
        assert {name for name, _ in joined} == {"zeta-0", "zeta-1"}
        # An explicit ON clause that would match across tenants is still filtered.
        other = aliased(orm.Patient)
        pairs = session.execute(
            select(orm.Patient.tenant_id, other.tenant_id).join(other, other.id != orm.Patient.id)
        ).all()
        assert pairs
        assert all(pair == ("zeta", "zeta") for pair in pairs)
        inner = select(orm.Note.patient_id)
        in_subquery = session.scalars(
            select(orm.Patient.name).where(orm.Patient.id.in_(inner))
        ).all()
        assert set(in_subquery) == {"zeta-0", "zeta-1"}


@pytest.mark.parametrize("loader", [None, selectinload, joinedload])
def test_relationship_loads_are_filtered(
    make_session: MakeSession, orm: SimpleNamespace, loader: object
) -> None:
    ids = seed(make_session, orm)
    # Plant a note of tenant zeta pointing at acme's patient (possible only under bypass):
    # a relationship load must still not return it.
    with make_session() as session, bypass(reason="plant", audit=RecordingAuditSink()):
        session.add(orm.Note(body="foreign", patient_id=ids["acme"][0], tenant_id="zeta"))
        session.commit()
    with tenant_context("acme"), make_session() as session:
        stmt = select(orm.Patient).where(orm.Patient.id == ids["acme"][0])
        if loader is not None:
            stmt = stmt.options(loader(orm.Patient.notes))  # type: ignore[operator]  # one of the two loader functions
        patient = session.scalars(stmt).unique().one()
        assert [note.body for note in patient.notes] == ["note of acme-0"]


def test_lazy_load_of_an_object_loaded_under_bypass_is_filtered(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    ids = seed(make_session, orm)
    with make_session() as session, bypass(reason="plant", audit=RecordingAuditSink()):
        session.add(orm.Note(body="foreign", patient_id=ids["acme"][0], tenant_id="zeta"))
        session.commit()
    with make_session() as session:
        with bypass(reason="admin view", audit=RecordingAuditSink()):
            patient = session.scalars(
                select(orm.Patient).where(orm.Patient.id == ids["acme"][0])
            ).one()
        # Loaded under bypass, so no criteria travel with it; the lazy load still filters.
        with tenant_context("acme"):
            assert [note.body for note in patient.notes] == ["note of acme-0"]


def test_bulk_update_and_delete_touch_only_current_tenant(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    seed(make_session, orm)
    with tenant_context("acme"), make_session() as session:
        changed = session.execute(update(orm.Patient).values(score=orm.Patient.score + 100))
        assert changed.rowcount == 2  # type: ignore[attr-defined]  # a CursorResult at runtime
        removed = session.execute(delete(orm.Note))
        assert removed.rowcount == 2  # type: ignore[attr-defined]  # as above
        session.commit()
    with tenant_context("zeta"), make_session() as session:
        assert sorted(session.scalars(select(orm.Patient.score))) == [0, 1]
        assert session.scalar(select(func.count()).select_from(orm.Note)) == 2


def test_no_tenant_raises_for_scoped_models(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    seed(make_session, orm)
    with make_session() as session:
        with pytest.raises(TenantContextError):
            session.scalars(select(orm.Patient)).all()
        with pytest.raises(TenantContextError):
            session.execute(select(orm.Plan.id).join(orm.Note, orm.Note.id == orm.Plan.id)).all()
        with pytest.raises(TenantContextError):
            session.execute(delete(orm.Note))
        with pytest.raises(TenantContextError):
            session.execute(update(orm.Patient).values(score=0))
        # Global tables stay usable without a tenant.
        assert session.scalars(select(orm.Plan.name)).all() == ["free"]


def test_insert_without_tenant_raises(make_session: MakeSession, orm: SimpleNamespace) -> None:
    with make_session() as session:
        session.add(orm.Patient(name="orphan"))
        with pytest.raises(TenantContextError, match="without a tenant"):
            session.flush()


def test_insert_for_another_tenant_raises(make_session: MakeSession, orm: SimpleNamespace) -> None:
    with tenant_context("acme"), make_session() as session:
        session.add(orm.Patient(name="smuggled", tenant_id="zeta"))
        with pytest.raises(CrossTenantWriteError):
            session.flush()


def test_moving_or_touching_another_tenants_row_raises(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    ids = seed(make_session, orm)
    with tenant_context("acme"), make_session() as session:
        patient = session.get(orm.Patient, ids["acme"][0])
        assert patient is not None
        patient.tenant_id = "zeta"
        with pytest.raises(CrossTenantWriteError, match="move"):
            session.flush()
    # A row loaded under bypass cannot be updated or deleted outside it by another tenant.
    with make_session() as session:
        with bypass(reason="load", audit=RecordingAuditSink()):
            foreign = session.get(orm.Patient, ids["zeta"][0])
        assert foreign is not None
        with tenant_context("acme"):
            foreign.name = "hijacked"
            with pytest.raises(CrossTenantWriteError, match="update"):
                session.flush()
            session.rollback()
            session.delete(foreign)
            with pytest.raises(CrossTenantWriteError, match="delete"):
                session.flush()


def test_get_hides_identity_map_objects_of_other_tenants(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    ids = seed(make_session, orm)
    with make_session() as session:
        with bypass(reason="load all", audit=RecordingAuditSink()):
            assert len(session.scalars(select(orm.Patient)).all()) == 4
        with tenant_context("acme"):
            assert session.get(orm.Patient, ids["zeta"][0]) is None
            with pytest.raises(NoResultFound):
                session.get_one(orm.Patient, ids["zeta"][0])
            assert session.get_one(orm.Patient, ids["acme"][0]).name == "acme-0"
        with pytest.raises(TenantContextError):
            session.get(orm.Patient, ids["acme"][0])
        assert session.get(orm.Plan, 1) is not None


def test_a_session_serves_one_tenant(make_session: MakeSession, orm: SimpleNamespace) -> None:
    seed(make_session, orm)
    with make_session() as session:
        with tenant_context("acme"):
            assert len(session.scalars(select(orm.Patient)).all()) == 2
        with (
            tenant_context("zeta"),
            pytest.raises(TenantContextError, match="one session per tenant"),
        ):
            session.scalars(select(orm.Patient)).all()
        with tenant_context("zeta"):
            session.add(orm.Patient(name="late"))
            with pytest.raises(TenantContextError, match="one session per tenant"):
                session.flush()
        session.rollback()
        # Admin work in between does not bind the session.
        with bypass(reason="admin", audit=RecordingAuditSink()):
            assert len(session.scalars(select(orm.Patient)).all()) == 4
        with tenant_context("acme"):
            assert len(session.scalars(select(orm.Patient)).all()) == 2


def test_bypass_sees_everything_and_is_audited(
    make_session: MakeSession, orm: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    seed(make_session, orm)
    sink = RecordingAuditSink()
    with tenant_context("acme"), make_session() as session:
        with bypass(reason="support ticket 42", actor="admin-7", audit=sink):
            assert session.scalar(select(func.count()).select_from(orm.Patient)) == 4
        assert session.scalar(select(func.count()).select_from(orm.Patient)) == 2
    assert sink.actions() == ["bypass"]
    assert (sink.records[0].reason, sink.records[0].actor, sink.records[0].tenant_id) == (
        "support ticket 42",
        "admin-7",
        "acme",
    )
    with (
        caplog.at_level(logging.WARNING, logger="spaps_tenancy.audit"),
        bypass(reason="default sink"),
    ):
        pass
    assert "default sink" in caplog.text
    with pytest.raises(ValueError, match="reason"), bypass(reason=" "):
        pass


def test_raw_sql_is_not_filtered_by_the_orm(
    make_session: MakeSession, orm: SimpleNamespace
) -> None:
    """Documented limit: text() is outside the ORM; PostgreSQL RLS is the wall for it."""
    seed(make_session, orm)
    with tenant_context("acme"), make_session() as session:
        assert session.execute(text("SELECT count(*) FROM patients")).scalar() == 4


def test_install_targets_are_checked(orm: SimpleNamespace) -> None:
    with pytest.raises(TypeError, match="sync_session_class"):
        install_tenant_filter(AsyncSession)  # type: ignore[arg-type]  # the wrong target on purpose
    with pytest.raises(TypeError, match="sync_session_class"):
        install_tenant_filter(async_sessionmaker())  # type: ignore[arg-type]  # as above
    with pytest.raises(TypeError, match="Session subclass"):
        install_tenant_filter(object)  # type: ignore[arg-type]  # as above
    install_tenant_filter(orm.Session)  # installing twice is a no-op


def test_sessionmaker_target_filters(sqlite_engine: object, orm: SimpleNamespace) -> None:
    factory = sessionmaker(sqlite_engine)  # type: ignore[call-overload]  # engine fixture typed loosely
    install_tenant_filter(factory)
    with tenant_context("acme"), factory() as session:
        session.add(orm.Patient(name="via-maker"))
        session.commit()
    with tenant_context("zeta"), factory() as session:
        assert session.scalars(select(orm.Patient)).all() == []
    with factory() as session, pytest.raises(TenantContextError):
        session.scalars(select(orm.Patient)).all()


async def test_async_session_is_filtered(orm: SimpleNamespace) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(orm.Base.metadata.create_all)
        factory = async_sessionmaker(engine, sync_session_class=orm.Session, expire_on_commit=False)
        for tenant in ("acme", "zeta"):
            with tenant_context(tenant):
                async with factory() as session:
                    session.add(orm.Patient(name=f"{tenant}-async"))
                    await session.commit()
        with tenant_context("zeta"):
            async with factory() as session:
                names = (await session.scalars(select(orm.Patient.name))).all()
                assert names == ["zeta-async"]
                await session.execute(update(orm.Patient).values(score=7))
                await session.commit()
        async with factory() as session:
            with pytest.raises(TenantContextError):
                await session.scalars(select(orm.Patient))
            with bypass(reason="check", audit=RecordingAuditSink()):
                rows = (await session.execute(select(orm.Patient.name, orm.Patient.score))).all()
            assert sorted(rows) == [("acme-async", 0), ("zeta-async", 7)]
    finally:
        await engine.dispose()
