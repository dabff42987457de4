"""Service settings, read from ``INGREDIENT_*`` environment variables (and ``.env``).

Nothing reads the environment at import time: build :class:`Settings` in the entry
point (the app factory, the CLI) and pass it on.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict
from spaps_ops import OpsSettings
from spaps_ops.db import async_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.data/ingredient.db"
_SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class Settings(OpsSettings):
    """Configuration of the ingredient service (every spaps-ops setting, plus these).

    Args:
        database_url: database URL; ``postgresql://`` and ``sqlite://`` are rewritten to
            their async drivers. Default: a SQLite file under ``.data/``.
        page_size_max: largest ``limit`` a list or search request may ask for.
    """

    model_config = SettingsConfigDict(
        env_prefix="INGREDIENT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    service_name: str = "ingredient"
    service_version: str = "0.1.0"
    database_url: str = DEFAULT_DATABASE_URL
    page_size_max: int = Field(default=100, ge=1, le=1000)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)


def normalise_database_url(url: str) -> str:
    """Return ``url`` with an async driver (asyncpg for PostgreSQL, aiosqlite for SQLite).

    Args:
        url: a SQLAlchemy database URL.

    Raises:
        ValueError: not a URL, or a database other than SQLite and PostgreSQL.
    """
    if "://" not in url:
        raise ValueError(f"database_url {url!r} is not a URL (expected scheme://...)")
    try:
        rewritten = async_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError for unparsable URLs
        raise ValueError(f"database_url {url!r} is not a database URL") from exc
    if rewritten.startswith(("postgresql+psycopg://", "postgresql+psycopg2://")):
        rewritten = "postgresql+asyncpg://" + rewritten.split("://", 1)[1]
    if not rewritten.startswith(tuple(f"{d}://" for d in _SUPPORTED_DRIVERS)):
        raise ValueError(f"database_url {url!r} is not supported (use sqlite:// or postgresql://)")
    return rewritten
