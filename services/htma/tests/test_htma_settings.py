"""Settings: prefix, production refusals, message keys, no settings at import time."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from htma import Settings, create_app
from htma.messaging.cipher import generate_key
from pydantic import SecretStr, ValidationError
from spaps_ops import InsecureSettingsError
from spaps_webhooks import SealingKey

STRONG = "k9#Lq2!vRt7$Wm4@Zp8^Xc1&Bn6*Hd3%Fj5"


def production(**overrides: Any) -> Settings:
    """Production settings with every key it requires, changed by ``overrides``."""
    keys: dict[str, Any] = {
        "secret_key": SecretStr(STRONG),
        "message_keys": SecretStr(generate_key("k1")),
        "totp_keys": SecretStr(generate_key("t1")),
        "webhook_sealing_keys": [str(SealingKey.generate("w1"))],
        "allowed_hosts": ["htma.example"],
    }
    return Settings(environment="production", **(keys | overrides))


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("HTMA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env; key files land here


def test_defaults_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().database_url == "sqlite+aiosqlite:///.data/htma.db"
    monkeypatch.setenv("HTMA_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("HTMA_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8, 10.0.0.0/8")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.webhook_allow_networks == ["127.0.0.0/8", "10.0.0.0/8"]


def test_unsupported_database_and_bad_keys_fail_fast() -> None:
    with pytest.raises(ValidationError, match="not supported"):
        Settings(database_url="mysql://h/db")
    with pytest.raises(ValidationError, match="message key"):
        Settings(message_keys=SecretStr("k1:not-base64!"))


def test_development_derives_a_message_key_production_refuses_it() -> None:
    assert Settings().message_cipher().primary_key_id == "dev"
    with pytest.raises(InsecureSettingsError) as refused:
        create_app(
            Settings(environment="production", secret_key=SecretStr(STRONG)),
            configure_logging=False,
        )
    assert "message_keys" in str(refused.value)
    assert "totp_keys" in str(refused.value)
    assert "webhook_sealing_keys" in str(refused.value)
    assert create_app(production(), configure_logging=False).title == "htma"


def test_production_refuses_plain_http_webhooks() -> None:
    with pytest.raises(InsecureSettingsError, match="webhook"):
        create_app(production(webhook_require_https=False), configure_logging=False)


def test_webhook_sealing_keys_setting(webhook_sealing_settings: Any) -> None:
    webhook_sealing_settings(Settings, create_app, "HTMA_WEBHOOK_SEALING_KEYS")


def test_a_key_file_created_meanwhile_is_kept_not_overwritten(tmp_path: Path) -> None:
    # The server, the worker and beat start at once on a fresh data directory and each
    # creates the missing key file: the first creation must win, or tokens signed by one
    # process name a key the JWKS published by another does not hold.
    from htma.identity.keystore import SigningKeyStore  # noqa: PLC0415

    path = tmp_path / "keys.json"
    first = SigningKeyStore(path).load().signing_key.kid
    late = SigningKeyStore(path)
    late._write([late._new_key()], exclusive=True)  # a creation that lost the race
    assert SigningKeyStore(path).load().signing_key.kid == first
    assert json.loads(path.read_text())["keys"][0]["kid"] == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".keys-")]


@pytest.mark.postgres
async def test_the_database_pool_is_sized_from_the_environment(
    pool_from_environment: Callable[[str, Callable[[], FastAPI]], Awaitable[tuple[int, int]]],
) -> None:
    assert await pool_from_environment("HTMA_", lambda: create_app(Settings())) == (2, 3)
