"""Settings: prefix, defaults and URL normalisation; no settings at import time."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from ingredient import Settings, create_app
from ingredient.settings import DEFAULT_DATABASE_URL
from pydantic import ValidationError
from spaps_ops import InsecureSettingsError, get_ops


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


def test_webhook_sealing_keys_setting(webhook_sealing_settings: Any) -> None:
    webhook_sealing_settings(Settings, create_app, "INGREDIENT_WEBHOOK_SEALING_KEYS")


@pytest.mark.postgres
async def test_the_database_pool_is_sized_from_the_environment(
    pool_from_environment: Callable[[str, Callable[[], FastAPI]], Awaitable[tuple[int, int]]],
) -> None:
    assert await pool_from_environment("INGREDIENT_", lambda: create_app(Settings())) == (2, 3)
