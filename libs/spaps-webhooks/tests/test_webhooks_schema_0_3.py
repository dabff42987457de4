"""``upgrade_to_0_3``/``downgrade_from_0_3``: the 0.3 schema steps run through Alembic's
real ``Operations`` on tables shaped as spaps-webhooks 0.2 left them, on both back ends."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from spaps_webhooks import (
    MigrationOps,
    SealingKey,
    SecretSealer,
    SecretSealingError,
    WebhookSecret,
    downgrade_from_0_3,
    upgrade_to_0_3,
)
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
)

# Alembic is the service's dependency, not this library's: the helpers take its ``op``.
alembic_migration = pytest.importorskip(
    "alembic.migration",
    reason="not applicable: Alembic is not installed (spaps-webhooks does not depend on it; "
    "a service's migration passes its op)",
)
alembic_operations = importlib.import_module("alembic.operations")  # installed with it

K1 = SealingKey.generate("k1")
CREATED = datetime(2026, 12, 1, 12, 0, 0)
ROWS = {
    "ep_a": (str(WebhookSecret.generate()), None),
    "ep_b": (str(WebhookSecret.generate()), str(WebhookSecret.generate(64))),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """A database holding the 0.2 tables: two endpoints with plaintext secrets, a message."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'schema.db'}"
    else:
        pg: str = request.getfixturevalue("postgres_url")
        url = pg.replace("postgresql://", "postgresql+psycopg://", 1)
    made = create_engine(url)
    metadata = MetaData()
    endpoints = Table(
        "webhook_endpoints",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("secret", String(128), nullable=False),
        Column("previous_secret", String(128), nullable=True),
    )
    messages = Table(
        "webhook_messages",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("created_at", DateTime(), nullable=False),
    )
    metadata.create_all(made)
    with made.begin() as conn:
        for endpoint_id, (secret, previous) in ROWS.items():
            conn.execute(
                endpoints.insert().values(id=endpoint_id, secret=secret, previous_secret=previous)
            )
        conn.execute(messages.insert().values(id="msg_old", created_at=CREATED))
    yield made
    made.dispose()


def operations(conn: Connection) -> MigrationOps:
    """Alembic's ``op`` on ``conn``, as a migration's ``upgrade()`` sees it."""
    ops: MigrationOps = alembic_operations.Operations(
        alembic_migration.MigrationContext.configure(conn)
    )
    return ops


def secret_lengths(conn: Connection) -> set[int | None]:
    columns = inspect(conn).get_columns("webhook_endpoints")
    return {c["type"].length for c in columns if c["name"] in {"secret", "previous_secret"}}


def stored(conn: Connection) -> dict[str, tuple[str, str | None]]:
    t = Table("webhook_endpoints", MetaData(), autoload_with=conn)
    return {r.id: (r.secret, r.previous_secret) for r in conn.execute(select(t))}


def test_upgrade_widens_seals_adds_fan_out_and_receipts_and_downgrade_undoes_it(
    engine: Engine,
) -> None:
    sealer = SecretSealer([K1])
    with engine.begin() as conn:
        upgrade_to_0_3(operations(conn), sealer)
    with engine.connect() as conn:
        assert secret_lengths(conn) == {512}
        sealed = stored(conn)
        assert all(v.startswith("sealed:v1:k1:") for pair in sealed.values() for v in pair if v)
        opened = {k: sealer.open(s, endpoint_id=k) for k, (s, _) in sealed.items()}
        assert opened == {k: s for k, (s, _) in ROWS.items()}
        assert sealed["ep_a"][1] is None  # no rotation overlap stays none
        messages = Table("webhook_messages", MetaData(), autoload_with=conn)
        assert conn.execute(select(messages.c.fanned_out_at)).scalar_one() == CREATED
        indexes = {i["name"] for i in inspect(conn).get_indexes("webhook_messages")}
        assert "ix_webhook_messages_fanned_out_at" in indexes
        receipts = {i["name"] for i in inspect(conn).get_indexes("webhook_receipts")}
        assert receipts == {"ix_webhook_receipts_received_at"}

    with engine.begin() as conn:
        downgrade_from_0_3(operations(conn), sealer)
    with engine.connect() as conn:
        assert secret_lengths(conn) == {128}
        assert stored(conn) == ROWS
        assert not inspect(conn).has_table("webhook_receipts")
        columns = {c["name"] for c in inspect(conn).get_columns("webhook_messages")}
        assert columns == {"id", "created_at"}


def test_without_keys_rows_stay_and_a_sealed_table_refuses_to_downgrade(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with engine.begin() as conn:
        upgrade_to_0_3(operations(conn), None)
    assert "no sealing keys configured: webhook_endpoints keeps plaintext secrets" in caplog.text
    with engine.connect() as conn:
        assert stored(conn) == ROWS  # left as they were, widened
        assert secret_lengths(conn) == {512}
    # Sealed with keys later: a downgrade without them refuses and opens nothing.
    with engine.begin() as conn:
        downgrade_from_0_3(operations(conn), None)  # nothing sealed: nothing to open
        upgrade_to_0_3(operations(conn), SecretSealer([K1]))
    with pytest.raises(SecretSealingError), engine.begin() as conn:
        downgrade_from_0_3(operations(conn), None)
    with engine.connect() as conn:
        assert all(s.startswith("sealed:v1:k1:") for s, _ in stored(conn).values())
