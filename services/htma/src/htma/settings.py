"""Service settings, read from ``HTMA_*`` environment variables (and ``.env``).

Nothing reads the environment at import time: build :class:`Settings` in the entry
point (the app factory, the CLI, the worker) and pass it on.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict
from spaps_auth import SealingKey, SecretSealer
from spaps_jobs.settings import RedeliverySettings, RetentionSettings
from spaps_ops import OpsSettings
from spaps_ops.db import async_url, sync_url
from spaps_webhooks import SealingKeys
from spaps_webhooks import SecretSealer as WebhookSealer

from htma.messaging.cipher import MessageCipher, MessageKey, derive_development_key, parse_keys

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.data/htma.db"


class Settings(OpsSettings, RedeliverySettings, RetentionSettings):
    """Configuration of the htma service (every spaps-ops setting, plus these).

    Args:
        database_url: database URL; ``postgresql://`` and ``sqlite://`` are rewritten to
            their async drivers. Default: a SQLite file under ``.data/``.
        issuer: ``iss`` of the access tokens htma signs (other services check it).
        token_audience: ``aud`` of the access tokens (the services that accept them).
        access_ttl: access-token lifetime in seconds.
        signing_keys_path: JSON file of the token signing keys (created when missing;
            ``htma rotate-keys`` adds a key).
        worker_metrics_port: the port on which ``htma worker`` serves its Prometheus
            metrics (jobs, relay, outbox) at ``/metrics``; unset: none (``0``: any free
            port, printed at start).
        beat_schedule_path: file where the beat scheduler (``htma beat``, ``htma worker``
            with beat) keeps its schedule state; its folder must be writable.
        lockout_threshold: failed logins before an account is locked (escalating cooldown).
        plans: API requests per clinic plan (``"<n>/<period>"``).
        redis_url: Redis for the rate limiter (unset: in-memory, per process).
        broker_url: Celery broker (default: an embedded SQLite broker under ``.data/``).
        database_connect_timeout: seconds a new database connection may take
            (PostgreSQL).
        database_statement_timeout: seconds a statement may run, enforced by the client
            (a frozen server) and the server (PostgreSQL).
        database_pool_timeout: seconds a request waits for a pooled connection. A
            database that is down or frozen costs a request at most about the sum of the
            three, then it is answered 503 ``ops.database_unavailable``.
        database_pool_size: connections each process keeps open (PostgreSQL); size it to
            a worker's concurrent requests, so that few of them open a new connection.
        database_max_overflow: connections opened beyond it under load, closed again when
            returned; keep workers x (both) below the server's ``max_connections``.
        compute_mode: ``worker`` (results computed by the Celery worker, ``htma worker``)
            or ``inline`` (in the API process after the commit; tests, single process).
        ingredient_url: base URL of the ingredient service (recommendations).
        ingredient_retry_after: seconds the circuit to ingredient stays open.
        webhook_require_https: refuse ``http://`` webhook endpoints (production: true).
        webhook_allow_networks: private networks webhook endpoints may resolve to
            (development only, e.g. ``127.0.0.0/8``), comma-separated.
        ingredient_webhook_secrets: ``whsec_`` secrets of ingredient's ``ingredient.updated``
            webhooks, comma-separated (two during a rotation); unset: no receiver route.
        message_keys: message encryption keys, ``"<id>:<base64 32 bytes>"`` comma-separated,
            primary first (``htma generate-message-key`` makes one). Empty in development: a key
            derived from ``secret_key``; production refuses an empty value.
        totp_keys: keys sealing TOTP secrets at rest, same format as ``message_keys``
            (``htma generate-message-key`` makes one), primary first; every listed key
            opens, ``htma rotate-totp-keys`` re-seals under the primary. Empty in development:
            a key derived from ``secret_key``; production refuses an empty value. The
            migrations read it too (``0005`` seals existing plaintext secrets).
        open_signup: whether ``POST /v1/auth/signup`` creates clinics for anyone. Unset:
            on in development, off in production (production refuses ``true``); clinics
            are then created with ``htma create-admin`` and users join by invitation.
        public_url: base URL of the web app, for the links in e-mails (invitations,
            password reset).
        session_check_ttl: seconds a "session still live" answer is cached when access
            tokens are checked against revoked sessions (another process's revocation
            is seen at most this late; this process's at once).
        webhook_sealing_keys: keys that seal webhook endpoint secrets at rest,
            comma-separated ``"<kid>:<base64 key>"`` (16, 24 or 32 bytes), the sealing key
            first, retired keys after it until re-sealed. Required in production; the
            migrations read it too (``0006`` seals existing plaintext secrets).
    """

    # hide_input_in_errors: a rejected value (a sealing key, a secret) is not echoed.
    model_config = SettingsConfigDict(
        env_prefix="HTMA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    service_name: str = "htma"
    #: Empty: the installed package's version (what /openapi.json and /health report).
    service_version: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    message_keys: SecretStr = Field(default=SecretStr(""))
    issuer: str = "htma"
    token_audience: str = "spaps"  # noqa: S105 -- an audience name, not a secret
    access_ttl: int = Field(default=900, ge=60, le=86_400)
    signing_keys_path: Path = Path(".data/htma-signing-keys.json")
    beat_schedule_path: Path = Path(".data/htma-beat-schedule")
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)
    lockout_threshold: int = Field(default=5, ge=1)
    plans: dict[str, str] = Field(
        default_factory=lambda: {"standard": "600/minute", "premium": "6000/minute"}
    )
    redis_url: str | None = None
    broker_url: str = "sqla+sqlite:///.data/htma-broker.db"
    database_connect_timeout: float = Field(default=10.0, gt=0)
    database_statement_timeout: float = Field(default=30.0, gt=0)
    database_pool_timeout: float = Field(default=10.0, gt=0)
    database_pool_size: int = Field(default=20, ge=1, le=1000)
    database_max_overflow: int = Field(default=10, ge=0, le=1000)
    compute_mode: Literal["worker", "inline"] = "worker"
    ingredient_url: str = "http://127.0.0.1:8001"
    ingredient_retry_after: float = Field(default=30.0, gt=0)
    webhook_require_https: bool = True
    webhook_allow_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ingredient_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    totp_keys: SecretStr = Field(default=SecretStr(""))
    open_signup: bool | None = None
    public_url: str = "http://127.0.0.1:8000"
    session_check_ttl: float = Field(default=5.0, ge=0, le=300)
    webhook_sealing_keys: Annotated[SealingKeys, NoDecode] = Field(default_factory=list)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        rewritten = async_url(value)
        if not rewritten.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                f"database_url {value!r} is not supported (use sqlite:// or postgresql://)"
            )
        return rewritten

    @field_validator("webhook_allow_networks", "ingredient_webhook_secrets", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("message_keys", "totp_keys")
    @classmethod
    def _parse_keys(cls, value: SecretStr) -> SecretStr:
        parse_keys(value.get_secret_value())  # fail fast on a malformed key
        return value

    @field_validator("service_version")
    @classmethod
    def _installed_version(cls, value: str) -> str:
        return value or version("htma")

    def dead_letters_url(self) -> str:
        """The dead-letter store's URL: :attr:`dead_letter_url`, else the database's."""
        return self.dead_letter_url or sync_url(self.database_url)

    def webhook_sealer(self) -> WebhookSealer | None:
        """The sealer of :attr:`webhook_sealing_keys` (``None`` when none are set)."""
        keys = [key.get_secret_value() for key in self.webhook_sealing_keys]
        return WebhookSealer(keys) if keys else None

    @property
    def signup_open(self) -> bool:
        """Whether open sign-up is on (explicit setting, else not in production)."""
        return self.open_signup if self.open_signup is not None else not self.is_production

    def insecure_fields(self) -> dict[str, str]:
        """spaps-ops' checks, plus: production needs explicit message keys."""
        problems = super().insecure_fields()
        if not self.message_keys.get_secret_value():
            problems["message_keys"] = "must be set (htma generate-message-key)"
        if not self.totp_keys.get_secret_value():
            problems["totp_keys"] = "must be set (htma generate-message-key)"
        if self.open_signup:
            problems["open_signup"] = "anyone could create a clinic: use invitations"
        if not self.webhook_require_https or self.webhook_allow_networks:
            problems["webhook_require_https"] = "webhooks must go to public https endpoints"
        if not self.webhook_sealing_keys:
            problems["webhook_sealing_keys"] = "required: endpoint secrets are sealed at rest"
        return problems

    def message_key_list(self) -> list[MessageKey]:
        """The configured keys, primary first (development: one derived key)."""
        keys = parse_keys(self.message_keys.get_secret_value())
        return keys or [derive_development_key(self.secret_key.get_secret_value())]

    def message_cipher(self) -> MessageCipher:
        """A cipher over :meth:`message_key_list`."""
        return MessageCipher(keys=self.message_key_list())

    def totp_sealer(self) -> SecretSealer:
        """Seals TOTP secrets: the configured keys, primary first (development: one key
        derived from ``secret_key``)."""
        keys = parse_keys(self.totp_keys.get_secret_value()) or [
            derive_development_key(self.secret_key.get_secret_value(), info=b"htma-totp-v1")
        ]
        return SecretSealer([SealingKey(k.key_id, k.key) for k in keys])
