"""Settings: prefix, defaults and URL normalisation; no settings at import time."""

from __future__ import annotations

import base64
import os

import pytest
from ingredient import Settings, create_app
from ingredient.settings import DEFAULT_DATABASE_URL
from pydantic import ValidationError
from spaps_ops import InsecureSettingsError, get_ops
from spaps_webhooks import SealingKey


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for key in list(os.environ):
        if key.startswith("INGREDIENT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_defaults() -> None:
    settings = Settings()
    assert (
        settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///.data/ingredient.db"
    )
    assert settings.environment == "development"


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGREDIENT_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("INGREDIENT_PAGE_SIZE_MAX", "7")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.page_size_max == 7


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgres://h/db", "postgresql+asyncpg://h/db"),
        ("postgresql+psycopg://h/db", "postgresql+asyncpg://h/db"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
    ],
)
def test_urls_get_an_async_driver(url: str, expected: str) -> None:
    assert Settings(database_url=url).database_url == expected


@pytest.mark.parametrize("url", ["mysql://h/db", "not a url"])
def test_unsupported_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(database_url=url)


def test_two_apps_with_different_settings_coexist() -> None:
    one = create_app(Settings(page_size_max=5), configure_logging=False)
    two = create_app(Settings(page_size_max=50), configure_logging=False)
    assert get_ops(one).settings.page_size_max == 5  # type: ignore[attr-defined] # our subclass
    assert get_ops(two).settings.page_size_max == 50  # type: ignore[attr-defined] # our subclass


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(InsecureSettingsError, match="secret_key"):
        create_app(Settings(environment="production"), configure_logging=False)


def test_webhook_sealing_keys_come_from_the_environment_as_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new, old = SealingKey.generate("k2"), SealingKey.generate("k1")
    monkeypatch.setenv("INGREDIENT_WEBHOOK_SEALING_KEYS", f"{new}, {old}")
    settings = Settings()
    assert [k.get_secret_value() for k in settings.webhook_sealing_keys] == [str(new), str(old)]
    assert str(new) not in repr(settings)  # secret values
    sealer = settings.webhook_sealer()
    assert sealer is not None
    assert sealer.kids == ("k2", "k1")  # the first key seals
    assert Settings(webhook_sealing_keys=[]).webhook_sealer() is None


def test_malformed_webhook_sealing_keys_are_rejected_without_echoing_them() -> None:
    short = base64.b64encode(b"x" * 10).decode()  # 10 bytes: not an AES key size
    with pytest.raises(ValidationError, match="webhook_sealing_keys") as caught:
        Settings(webhook_sealing_keys=[f"k1:{short}"])
    assert short not in str(caught.value)
    twice = [str(SealingKey.generate("k1")), str(SealingKey.generate("k1"))]
    with pytest.raises(ValidationError, match="unique"):
        Settings(webhook_sealing_keys=twice)


def test_production_requires_webhook_sealing_keys() -> None:
    base = Settings(environment="production")
    assert "webhook_sealing_keys" in base.insecure_fields()
    keyed = Settings(
        environment="production", webhook_sealing_keys=[str(SealingKey.generate("k1"))]
    )
    assert "webhook_sealing_keys" not in keyed.insecure_fields()
    with pytest.raises(InsecureSettingsError, match="webhook_sealing_keys"):
        create_app(base, configure_logging=False)
