"""The migration that seals webhook endpoint secrets at rest, up and down, on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from htma.migrate import MIGRATIONS
from spaps_ops.db import sync_url
from spaps_webhooks import SealingKey, SecretSealer, SecretSealingError, WebhookSecret
from sqlalchemy import create_engine, inspect, text

REVISION = "0006"
KEY = SealingKey.generate("m1")
ENV = "HTMA_WEBHOOK_SEALING_KEYS"  # the service's setting
FALLBACK_ENV = "SPAPS_WEBHOOKS_SEALING_KEYS"  # read when the setting is unset


def before_revision() -> str:
    script = ScriptDirectory.from_config(MIGRATIONS.alembic_config("sqlite://"))
    down = script.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def insert_endpoints(database_url: str) -> dict[str, tuple[str, str | None]]:
    """Two endpoints with plaintext secrets, one rotating; returns id -> (secret, previous)."""
    rows = {
        "ep_a": (str(WebhookSecret.generate()), None),
        "ep_b": (str(WebhookSecret.generate()), str(WebhookSecret.generate(64))),
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        for endpoint_id, (secret, previous) in rows.items():
            conn.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, owner, url, description, event_types,"
                    " secret, previous_secret, enabled, created_at, updated_at) VALUES"
                    " (:id, 'clinic', 'https://hooks.example/x', '', '[]', :secret, :previous,"
                    " true, :now, :now)"
                ),
                {"id": endpoint_id, "secret": secret, "previous": previous, "now": now},
            )
    engine.dispose()
    return rows


def insert_message(database_url: str) -> datetime:
    """A message stored before the migration (it was fanned out then); returns created_at."""
    created = datetime(2026, 12, 1, 12, 0, 0)
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO webhook_messages (id, owner, event_type, body, created_at)"
                " VALUES ('msg_old', 'clinic', 'x.v1', '{}', :created)"
            ),
            {"created": created},
        )
    engine.dispose()
    return created


def message_columns(database_url: str) -> set[str]:
    """The columns of ``webhook_messages``, plus ``"<receipts table>"`` when it exists."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_columns("webhook_messages")}
        if inspect(conn).has_table("webhook_receipts"):
            names.add("<receipts table>")
    engine.dispose()
    return names


def fanned_out_like_created(database_url: str) -> int:
    """Messages whose ``fanned_out_at`` equals their ``created_at``."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM webhook_messages WHERE fanned_out_at = created_at")
        ).scalar_one()
    engine.dispose()
    return int(count)


def stored(database_url: str) -> dict[str, tuple[str, str | None]]:
    """The raw values of the secret columns, read without any library code."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, secret, previous_secret FROM webhook_endpoints"))
        found = {r.id: (r.secret, r.previous_secret) for r in rows}
    engine.dispose()
    return found


@pytest.mark.parametrize("env", [ENV, FALLBACK_ENV])
async def test_upgrade_seals_and_downgrade_unseals(
    database_url: str, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    for name in (ENV, FALLBACK_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(env, str(KEY))
    await MIGRATIONS.upgrade(database_url, before_revision())
    plain = insert_endpoints(database_url)
    insert_message(database_url)
    assert {"fanned_out_at", "<receipts table>"}.isdisjoint(message_columns(database_url))
    await MIGRATIONS.upgrade(database_url, REVISION)
    assert {"fanned_out_at", "<receipts table>"} <= message_columns(database_url)
    assert fanned_out_like_created(database_url) == 1  # stored messages were fanned out
    sealed = stored(database_url)
    dump = repr(sealed)
    for secret, previous in plain.values():
        for value in (secret, previous):
            if value is not None:
                assert value not in dump
                assert value.removeprefix("whsec_") not in dump
    assert dump.count("sealed:v1:m1:") == 3
    sealer = SecretSealer([KEY])
    opened = {
        endpoint_id: (
            sealer.open(secret, endpoint_id=endpoint_id),
            sealer.open(previous, endpoint_id=endpoint_id) if previous else None,
        )
        for endpoint_id, (secret, previous) in sealed.items()
    }
    assert opened == plain
    await MIGRATIONS.downgrade(database_url, before_revision())
    assert stored(database_url) == plain
    assert {"fanned_out_at", "<receipts table>"}.isdisjoint(message_columns(database_url))
    await MIGRATIONS.upgrade(database_url)
    assert await MIGRATIONS.current_revision(database_url) == MIGRATIONS.head_revision()


async def test_without_keys_rows_stay_and_a_sealed_table_refuses_to_downgrade(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (ENV, FALLBACK_ENV):
        monkeypatch.delenv(name, raising=False)
    await MIGRATIONS.upgrade(database_url, before_revision())
    plain = insert_endpoints(database_url)
    await MIGRATIONS.upgrade(database_url, REVISION)
    assert stored(database_url) == plain  # development without keys: left as it was
    await MIGRATIONS.downgrade(database_url, before_revision())
    assert stored(database_url) == plain
    monkeypatch.setenv(ENV, str(KEY))
    await MIGRATIONS.upgrade(database_url, REVISION)
    monkeypatch.delenv(ENV)
    with pytest.raises(SecretSealingError, match="sealed"):
        await MIGRATIONS.downgrade(database_url, before_revision())
    assert await MIGRATIONS.current_revision(database_url) == REVISION
