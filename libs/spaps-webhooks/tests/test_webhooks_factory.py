"""create_webhooks: the one call both services use to set up Webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr
from spaps_jobs import Outbox
from spaps_webhooks import (
    EventRegistry,
    SealingKey,
    SecretSealer,
    UnsafeURLError,
    Webhooks,
    WebhookSettings,
    WebhookTables,
    create_webhooks,
)
from sqlalchemy import MetaData, text

KEY = SealingKey.generate("k1")


@dataclass
class Settings:
    """What a service's settings carry (the services use pydantic-settings)."""

    database_url: str
    webhook_require_https: bool = True
    webhook_allow_networks: list[str] = field(default_factory=list)


@dataclass
class SealedSettings(Settings):
    webhook_sealing_keys: list[SecretStr] = field(default_factory=list)


def parts() -> tuple[WebhookTables, Outbox]:
    metadata = MetaData()
    return WebhookTables(metadata), Outbox(metadata)


def stored_secret(webhooks: Webhooks) -> str:
    with webhooks.engine.connect() as conn:
        value: str = conn.execute(text("SELECT secret FROM webhook_endpoints")).scalar_one()
    return value


def test_an_async_sqlite_url_gets_a_synchronous_engine_and_the_guard(tmp_path: Path) -> None:
    tables, outbox = parts()
    registry = EventRegistry()
    sealer = SecretSealer([KEY])
    settings: WebhookSettings = Settings(
        f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}",
        webhook_require_https=False,
        webhook_allow_networks=["127.0.0.0/8"],
    )
    webhooks = create_webhooks(
        settings, tables=tables, outbox=outbox, registry=registry, sealer=sealer, timeout=3.0
    )
    try:
        assert isinstance(webhooks, Webhooks)
        assert webhooks.engine.dialect.driver == "pysqlite"
        assert webhooks.registry is registry
        assert webhooks.sealer is sealer
        assert webhooks.deliverer.timeout == 3.0
        webhooks.create_tables()
        endpoint = webhooks.endpoints.create("o", "http://127.0.0.1:9/hook")
        assert stored_secret(webhooks).startswith("sealed:v1:k1:")
        assert endpoint.secret not in stored_secret(webhooks)
        with pytest.raises(UnsafeURLError, match="private"):
            webhooks.endpoints.create("o", "http://10.0.0.1/hook")
    finally:
        webhooks.engine.dispose()


def test_sealing_keys_come_from_the_settings_when_present(tmp_path: Path) -> None:
    tables, outbox = parts()
    settings = SealedSettings(
        f"sqlite:///{tmp_path / 's.db'}", webhook_sealing_keys=[SecretStr(str(KEY))]
    )
    webhooks = create_webhooks(settings, tables=tables, outbox=outbox)
    try:
        assert webhooks.sealer is not None
        assert webhooks.sealer.kids == ("k1",)
        # An explicit None turns sealing off even when the settings carry keys.
        plain = create_webhooks(settings, tables=parts()[0], outbox=outbox, sealer=None)
        assert plain.sealer is None
        plain.engine.dispose()
    finally:
        webhooks.engine.dispose()


def test_defaults_require_https_and_public_addresses(tmp_path: Path) -> None:
    tables, outbox = parts()
    webhooks = create_webhooks(
        Settings(f"sqlite:///{tmp_path / 'd.db'}"), tables=tables, outbox=outbox
    )
    try:
        assert webhooks.sealer is None
        assert webhooks.guard.require_https
        webhooks.create_tables()
        with pytest.raises(UnsafeURLError, match="https"):
            webhooks.endpoints.create("o", "http://93.184.215.14/hook")
        with pytest.raises(UnsafeURLError, match="loopback"):
            webhooks.endpoints.create("o", "https://127.0.0.1/hook")
    finally:
        webhooks.engine.dispose()


@pytest.mark.postgres
def test_an_asyncpg_url_gets_psycopg(postgres_url: str) -> None:
    tables, outbox = parts()
    url = postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    webhooks = create_webhooks(Settings(url), tables=tables, outbox=outbox)
    try:
        assert webhooks.engine.dialect.driver == "psycopg"
        webhooks.create_tables()
        with webhooks.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM webhook_endpoints")).scalar_one() == 0
    finally:
        webhooks.engine.dispose()


def test_bad_arguments_raise(tmp_path: Path) -> None:
    tables, _ = parts()
    settings = Settings(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(TypeError, match="Outbox"):
        create_webhooks(settings, tables=tables, outbox="nope")  # type: ignore[arg-type]
