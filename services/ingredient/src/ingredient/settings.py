"""Service settings, read from ``INGREDIENT_*`` environment variables (and ``.env``).

Nothing reads the environment at import time: build :class:`Settings` in the entry
point (the app factory, the CLI) and pass it on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.data/ingredient.db"


class Settings(BaseSettings):
    """Configuration of the ingredient service.

    Args:
        database_url: SQLAlchemy async URL (``sqlite+aiosqlite://`` or
            ``postgresql+asyncpg://``; a plain ``postgresql://`` is accepted and
            rewritten to asyncpg). Default: a SQLite file under ``.data/``.
        environment: ``development`` or ``production``.
        page_size_max: largest ``limit`` a list or search request may ask for.
    """

    model_config = SettingsConfigDict(
        env_prefix="INGREDIENT_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    environment: Literal["development", "production"] = "development"
    page_size_max: int = Field(default=100, ge=1, le=1000)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)


def normalise_database_url(url: str) -> str:
    """Return ``url`` with an async driver (asyncpg for PostgreSQL, aiosqlite for SQLite).

    Args:
        url: a SQLAlchemy database URL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"database_url {url!r} is not a URL (expected scheme://...)")
    if scheme in {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}:
        return f"postgresql+asyncpg://{rest}"
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if scheme not in {"postgresql+asyncpg", "sqlite+aiosqlite"}:
        raise ValueError(
            f"database_url scheme {scheme!r} is not supported "
            "(use sqlite+aiosqlite:// or postgresql+asyncpg://)"
        )
    return url
