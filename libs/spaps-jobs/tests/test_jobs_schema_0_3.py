"""``upgrade_to_0_3``/``downgrade_from_0_3``: the confirmation columns and the dead-letter
table added through Alembic's real ``Operations`` to an outbox table that spaps-jobs 0.2
created, on both back ends; the upgraded table is the one ``Outbox(confirmations=True)``
declares."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from spaps_jobs import DeadLetterStore, MigrationOps, Outbox, downgrade_from_0_3, upgrade_to_0_3
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, inspect, select
from sqlalchemy.orm import Session

# Alembic is the service's dependency, not this library's: the helpers take its ``op``.
alembic_migration = pytest.importorskip(
    "alembic.migration",
    reason="not applicable: Alembic is not installed (spaps-jobs does not depend on it; "
    "a service's migration passes its op)",
)
alembic_operations = importlib.import_module("alembic.operations")  # installed with it


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database holding a 0.2 outbox table (no confirmations) with one sent message."""
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    else:
        made = request.getfixturevalue("pg_engine")
    metadata = MetaData()
    outbox = Outbox(metadata)
    metadata.create_all(made)
    with Session(made) as session, session.begin():
        outbox.add(session, "panel.submitted", {"panel": 1}, message_id="msg-old")
    yield made  # the PostgreSQL database is the test's own and dropped after it
    if request.param == "sqlite":
        made.dispose()


def operations(conn: Connection) -> MigrationOps:
    """Alembic's ``op`` on ``conn``, as a migration's ``upgrade()`` sees it."""
    ops: MigrationOps = alembic_operations.Operations(
        alembic_migration.MigrationContext.configure(conn)
    )
    return ops


def shape(conn: Connection, table: str) -> dict[str, tuple[str, bool]]:
    return {
        c["name"]: (type(c["type"]).__name__, bool(c["nullable"]))
        for c in inspect(conn).get_columns(table)
    }


def declared(conn: Connection, table: Table) -> dict[str, tuple[str, bool]]:
    """The columns ``table`` declares, as the database reflects them once created."""
    scratch = MetaData()
    copy = table.to_metadata(scratch, name=f"{table.name}_declared")
    copy.indexes.clear()  # their names are the real table's; the columns are what counts
    scratch.create_all(conn)
    try:
        return shape(conn, copy.name)
    finally:
        scratch.drop_all(conn)


def test_upgrade_adds_what_confirmations_declare_and_downgrade_removes_it(
    engine: Engine,
) -> None:
    with engine.connect() as conn:
        before = shape(conn, "spaps_outbox")
    with engine.begin() as conn:
        upgrade_to_0_3(operations(conn))

    confirmed = Outbox(MetaData(), confirmations=True)
    store = DeadLetterStore(engine)
    with engine.begin() as conn:
        assert shape(conn, "spaps_outbox") == declared(conn, confirmed.table)
        assert shape(conn, "spaps_dead_letters") == declared(conn, store.table)
        indexes = {i["name"] for i in inspect(conn).get_indexes("spaps_outbox")}
        assert "ix_spaps_outbox_redeliver" in indexes
        letters = {i["name"] for i in inspect(conn).get_indexes("spaps_dead_letters")}
        assert letters == {"ix_spaps_dead_letters_task_name"}
        # The message sent before the upgrade is never published again.
        row = conn.execute(select(confirmed.table).where(confirmed.table.c.message_id == "msg-old"))
        old = row.one()
        assert (old.publishes, old.redeliver_at, old.confirmed_at) == (0, None, None)
        assert confirmed.confirm(conn, "msg-old") is True
    # The store finds the migrated table and records a letter in it.
    store.add(
        task_name="t", task_id="1", args=[], kwargs={}, error="boom", traceback="tb", attempts=1
    )
    assert [letter.task_name for letter in store.list()] == ["t"]

    with engine.begin() as conn:
        downgrade_from_0_3(operations(conn))
    with engine.connect() as conn:
        assert shape(conn, "spaps_outbox") == before
        assert not inspect(conn).has_table("spaps_dead_letters")
        assert "ix_spaps_outbox_redeliver" not in {
            i["name"] for i in inspect(conn).get_indexes("spaps_outbox")
        }


def test_other_table_names_and_no_dead_letter_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE spaps_outbox RENAME TO events_out")
        upgrade_to_0_3(operations(conn), outbox="events_out", dead_letters=None)
    with engine.connect() as conn:
        assert {"confirmed_at", "redeliver_at", "publishes", "dead_lettered_at"} <= set(
            shape(conn, "events_out")
        )
        assert "ix_events_out_redeliver" in {
            i["name"] for i in inspect(conn).get_indexes("events_out")
        }
        assert not inspect(conn).has_table("spaps_dead_letters")
    with engine.begin() as conn:
        downgrade_from_0_3(operations(conn), outbox="events_out", dead_letters=None)
        assert "confirmed_at" not in shape(conn, "events_out")
        conn.exec_driver_sql("DROP TABLE events_out")
