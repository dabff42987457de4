"""Service settings, read from ``INGREDIENT_*`` environment variables (and ``.env``).

Nothing reads the environment at import time: build :class:`Settings` in the entry
point (the app factory, the CLI) and pass it on.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict
from spaps_jobs.settings import RedeliverySettings, RetentionSettings
from spaps_ops import OpsSettings
from spaps_ops.db import async_url, sync_url
from spaps_ratelimit import Limit
from spaps_webhooks import SealingKeys, SecretSealer

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.data/ingredient.db"
_SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class Settings(OpsSettings, RedeliverySettings, RetentionSettings):
    """Configuration of the ingredient service (every spaps-ops setting, plus these).

    Args:
        database_url: database URL; ``postgresql://`` and ``sqlite://`` are rewritten to
            their async drivers. Default: a SQLite file under ``.data/``.
        database_pool_size: connections each process keeps open (PostgreSQL); size it to
            a worker's concurrent requests, so that few of them open a new connection.
        database_max_overflow: connections opened beyond it under load, closed again when
            returned; keep workers x (both) below the server's ``max_connections``.
        page_size_max: largest ``limit`` a list or search request may ask for.
        htma_jwks_url: where htma publishes its token keys (cached; htma may be down).
        token_issuer: required ``iss`` of bearer tokens.
        token_audience: required ``aud`` of bearer tokens.
        plans: rate limit per plan (``"<n>/<period>"``); API keys carry ``plan:<name>``,
            bearer tokens use ``token``.
        api_key_failure_limit: failed API-key authentications one address may make
            (``"<n>/<period>"``); past it, its API-key requests get 429 unchecked.
        redis_url: Redis for the rate limiter (unset: in-memory, per process).
        webhook_url: subscriber of ``ingredient.updated.v1`` (htma's receiver), if any.
        webhook_secret: its ``whsec_`` secret (shared with the receiver).
        webhook_require_https: refuse ``http://`` webhook URLs (production: true).
        webhook_allow_networks: private networks the webhook URL may resolve to
            (development only), comma-separated.
        webhook_sealing_keys: keys that seal webhook endpoint secrets at rest,
            comma-separated ``"<kid>:<base64 key>"`` (16, 24 or 32 bytes), the sealing key
            first, retired keys after it until re-sealed. Required in production.
        broker_url: Celery broker of ``ingredient worker``, which purges on the
            retention schedule (default: an embedded SQLite broker under ``.data/``).
        beat_schedule_path: file where the worker's embedded beat keeps its schedule
            state; its folder must be writable.
    """

    # hide_input_in_errors: a rejected value (a sealing key, a secret) is not echoed.
    model_config = SettingsConfigDict(
        env_prefix="INGREDIENT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    service_name: str = "ingredient"
    #: Empty: the installed package's version (what /openapi.json and /health report).
    service_version: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=20, ge=1, le=1000)
    database_max_overflow: int = Field(default=10, ge=0, le=1000)
    page_size_max: int = Field(default=100, ge=1, le=1000)
    htma_jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    token_issuer: str = "htma"  # noqa: S105 -- an issuer name, not a secret
    token_audience: str = "spaps"  # noqa: S105 -- an audience name, not a secret
    plans: dict[str, str] = Field(
        default_factory=lambda: {"free": "60/minute", "pro": "1200/minute", "token": "1200/minute"}
    )
    api_key_failure_limit: str = "20/minute"
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_require_https: bool = True
    webhook_allow_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_sealing_keys: Annotated[SealingKeys, NoDecode] = Field(default_factory=list)
    broker_url: str = "sqla+sqlite:///.data/ingredient-broker.db"
    beat_schedule_path: Path = Path(".data/ingredient-beat-schedule")

    @field_validator("api_key_failure_limit")
    @classmethod
    def _limit(cls, value: str) -> str:
        Limit.parse(value)  # ValueError names what is wrong
        return value

    @field_validator("webhook_allow_networks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("service_version")
    @classmethod
    def _installed_version(cls, value: str) -> str:
        return value or version("ingredient")

    def dead_letters_url(self) -> str:
        """The dead-letter store's URL: :attr:`dead_letter_url`, else the database's."""
        return self.dead_letter_url or sync_url(self.database_url)

    def webhook_sealer(self) -> SecretSealer | None:
        """The sealer of :attr:`webhook_sealing_keys` (``None`` when none are set)."""
        keys = [key.get_secret_value() for key in self.webhook_sealing_keys]
        return SecretSealer(keys) if keys else None

    def insecure_fields(self) -> dict[str, str]:
        """spaps-ops' checks, plus: webhooks only to public https endpoints, and
        endpoint secrets sealed at rest."""
        problems = super().insecure_fields()
        if not self.webhook_require_https or self.webhook_allow_networks:
            problems["webhook_require_https"] = "webhooks must go to public https endpoints"
        if not self.webhook_sealing_keys:
            problems["webhook_sealing_keys"] = "required: endpoint secrets are sealed at rest"
        return problems

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
