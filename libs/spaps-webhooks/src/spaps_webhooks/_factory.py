"""One call that sets up :class:`Webhooks` the way a service needs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from spaps_jobs import Outbox
from sqlalchemy import create_engine

from ._endpoints import UNSET, _Unset
from ._registry import EventRegistry
from ._sealing import SecretSealer
from ._ssrf import URLGuard
from ._tables import WebhookTables
from ._webhooks import Webhooks

# Async drivers a service's settings name -> the synchronous driver of the same database
# (the library, its Celery tasks and relays run on a synchronous engine).
_SYNC_DRIVERS = (
    ("sqlite+aiosqlite://", "sqlite://"),
    ("postgresql+asyncpg://", "postgresql+psycopg://"),
)


def synchronous_url(database_url: str) -> str:
    """The synchronous-driver URL of ``database_url`` (other URLs are returned as given)."""
    for prefix, replacement in _SYNC_DRIVERS:
        if database_url.startswith(prefix):
            return replacement + database_url[len(prefix) :]
    return database_url


class WebhookSettings(Protocol):
    """The settings :func:`create_webhooks` reads (a service's pydantic settings fit).

    An optional ``webhook_sealing_keys`` attribute (``"<kid>:<base64>"`` strings or
    pydantic ``SecretStr``, the sealing key first) supplies the sealer.
    """

    @property
    def database_url(self) -> str: ...

    @property
    def webhook_require_https(self) -> bool: ...

    @property
    def webhook_allow_networks(self) -> Sequence[str]: ...


def sealer_from_settings(settings: object) -> SecretSealer | None:
    """The sealer of ``settings.webhook_sealing_keys``; ``None`` when absent or empty."""
    keys = getattr(settings, "webhook_sealing_keys", None) or []
    values = [k.get_secret_value() if hasattr(k, "get_secret_value") else k for k in keys]
    return SecretSealer(values) if values else None


def create_webhooks(
    settings: WebhookSettings,
    *,
    tables: WebhookTables,
    outbox: Outbox,
    registry: EventRegistry | None = None,
    sealer: SecretSealer | _Unset | None = UNSET,
    **options: Any,
) -> Webhooks:
    """Build :class:`Webhooks` for a service: engine, SSRF guard and sealer from settings.

    What a service's API and worker both need: a pre-pinged synchronous engine for
    ``settings.database_url`` (async drivers such as ``sqlite+aiosqlite`` or
    ``postgresql+asyncpg`` are swapped for their synchronous counterparts), the SSRF
    guard from ``webhook_require_https`` and ``webhook_allow_networks``, and the sealer
    of endpoint secrets. Dispose of ``webhooks.engine`` at shutdown.

    Args:
        settings: The service settings (see :class:`WebhookSettings`).
        tables: The webhook tables on the service's ``MetaData``.
        outbox: The service's outbox.
        registry: The event types the service publishes.
        sealer: Seals endpoint secrets at rest; default from
            ``settings.webhook_sealing_keys`` (none: unsealed). Pass
            ``SecretSealer.from_env()`` to read ``SPAPS_WEBHOOKS_SEALING_KEYS``.
        options: Any other :class:`Webhooks` argument (``timeout``, ``schedule``, ...).

    .. versionadded:: 0.3.0
    """
    if isinstance(sealer, _Unset):
        sealer = sealer_from_settings(settings)
    engine = create_engine(synchronous_url(settings.database_url), pool_pre_ping=True)
    guard = URLGuard(
        require_https=settings.webhook_require_https,
        allow_networks=list(settings.webhook_allow_networks),
    )
    try:
        return Webhooks(
            engine=engine,
            tables=tables,
            outbox=outbox,
            registry=registry,
            guard=guard,
            sealer=sealer,
            **options,
        )
    except Exception:
        engine.dispose()
        raise
