"""Property test: whatever the tenants, rows and ORM queries, no other tenant's row leaks.

Random tenants own random patients and notes; a random tenant then runs a random
sequence of ORM reads (filters, joins, aliased self-joins, lazy/selectin/joined
relationship loads, ``get`` by any id) and bulk writes. Every row read must be the
acting tenant's, reads must see all of its matching rows, and after every bulk write
the other tenants' rows must be exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spaps_tenancy import bypass, tenant_context
from spaps_tenancy.testing import RecordingAuditSink
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

TENANTS = ["t0", "t1", "t2"]

rows_strategy = st.lists(
    st.tuples(st.sampled_from(TENANTS), st.integers(0, 9), st.integers(0, 3)),
    min_size=0,
    max_size=12,
)
op_strategy = st.one_of(
    st.tuples(st.just("filter"), st.integers(0, 9)),
    st.tuples(st.just("join"), st.integers(0, 9)),
    st.tuples(st.just("self_join"), st.integers(0, 9)),
    st.tuples(st.sampled_from(["lazy", "selectin", "joined"]), st.integers(0, 9)),
    st.tuples(st.just("get"), st.integers(1, 40)),
    st.tuples(st.sampled_from(["note_parent_lazy", "note_parent_joined"]), st.integers(0, 40)),
    st.tuples(st.just("count"), st.integers(0, 9)),
    st.tuples(st.just("bulk_update"), st.integers(0, 9)),
    st.tuples(st.just("bulk_delete"), st.integers(0, 9)),
)


def _snapshot(session: Session, orm: SimpleNamespace, exclude: str) -> set[tuple[Any, ...]]:
    with bypass(reason="property check", audit=RecordingAuditSink()):
        patients = session.execute(
            select(orm.Patient.id, orm.Patient.tenant_id, orm.Patient.score).where(
                orm.Patient.tenant_id != exclude
            )
        ).all()
        notes = session.execute(
            select(orm.Note.id, orm.Note.tenant_id, orm.Note.body).where(
                orm.Note.tenant_id != exclude
            )
        ).all()
    return {("p", *row) for row in patients} | {("n", *row) for row in notes}


def _own(session: Session, orm: SimpleNamespace, tenant: str, threshold: int) -> set[int]:
    with bypass(reason="property oracle", audit=RecordingAuditSink()):
        return set(
            session.scalars(
                select(orm.Patient.id).where(
                    orm.Patient.tenant_id == tenant, orm.Patient.score >= threshold
                )
            )
        )


def _run_op(session: Session, orm: SimpleNamespace, tenant: str, op: tuple[str, int]) -> None:
    kind, arg = op
    patient = orm.Patient
    if kind == "filter":
        found = session.scalars(select(patient).where(patient.score >= arg)).all()
        assert {p.tenant_id for p in found} <= {tenant}
        assert {p.id for p in found} == _own(session, orm, tenant, arg)
    elif kind == "join":
        rows = session.execute(
            select(patient.tenant_id, orm.Note.tenant_id)
            .join(patient.notes)
            .where(patient.score >= arg)
        ).all()
        assert all(row == (tenant, tenant) for row in rows)
    elif kind == "self_join":
        other = aliased(patient)
        rows = session.execute(
            select(patient.tenant_id, other.tenant_id).join(other, other.score >= arg)
        ).all()
        assert all(row == (tenant, tenant) for row in rows)
    elif kind in ("lazy", "selectin", "joined"):
        loaders = {
            "lazy": [],
            "selectin": [selectinload(patient.notes)],
            "joined": [joinedload(patient.notes)],
        }
        stmt = select(patient).where(patient.score >= arg).options(*loaders[kind])
        for found in session.scalars(stmt).unique():
            assert found.tenant_id == tenant
            assert all(note.tenant_id == tenant for note in found.notes)
    elif kind.startswith("note_parent"):
        _check_note_parents(session, orm, tenant, joined=kind.endswith("joined"), first_id=arg)
    elif kind == "get":
        got = session.get(patient, arg)
        assert got is None or got.tenant_id == tenant
    elif kind == "count":
        counted = session.scalar(
            select(func.count()).select_from(patient).where(patient.score >= arg)
        )
        assert counted == len(_own(session, orm, tenant, arg))
    else:
        before = _snapshot(session, orm, exclude=tenant)
        if kind == "bulk_update":
            session.execute(
                update(patient).where(patient.score >= arg).values(score=patient.score + 1)
            )
        else:
            session.execute(delete(orm.Note).where(orm.Note.id >= arg))
        session.flush()
        assert _snapshot(session, orm, exclude=tenant) == before


def _check_note_parents(
    session: Session, orm: SimpleNamespace, tenant: str, *, joined: bool, first_id: int
) -> None:
    # Many-to-one: a note of this tenant may point at another tenant's patient (planted
    # under bypass); loading the parent must not reveal it.
    stmt = select(orm.Note).where(orm.Note.id >= first_id)
    if joined:
        stmt = stmt.options(joinedload(orm.Note.patient))
    for note in session.scalars(stmt).unique():
        assert note.tenant_id == tenant
        assert note.patient is None or note.patient.tenant_id == tenant


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=rows_strategy,
    actor=st.sampled_from(TENANTS),
    ops=st.lists(op_strategy, min_size=1, max_size=6),
)
def test_orm_queries_never_cross_tenants(
    make_session: Callable[[], Session],
    orm: SimpleNamespace,
    rows: list[tuple[str, int, int]],
    actor: str,
    ops: list[tuple[str, int]],
) -> None:
    with make_session() as session, bypass(reason="property setup", audit=RecordingAuditSink()):
        session.execute(delete(orm.Note))
        session.execute(delete(orm.Patient))
        for number, (tenant, score, notes) in enumerate(rows):
            owner = orm.Patient(name=f"p{number}", score=score, tenant_id=tenant)
            # Every other note is planted with a foreign tenant id, which only a
            # maintenance script could do: loads through the relationship must hide it.
            owner.notes = [
                orm.Note(body=f"n{number}.{i}", tenant_id=tenant if i % 2 == 0 else _other(tenant))
                for i in range(notes)
            ]
            session.add(owner)
        session.commit()
    # One session per tenant unit of work, as in a request handler.
    with tenant_context(actor), make_session() as session:
        for op in ops:
            _run_op(session, orm, actor, op)
        session.rollback()


def _other(tenant: str) -> str:
    return TENANTS[(TENANTS.index(tenant) + 1) % len(TENANTS)]
