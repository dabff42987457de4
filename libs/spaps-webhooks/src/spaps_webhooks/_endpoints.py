"""Endpoint management: create, list, update, disable, delete, rotate secrets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, Row, delete, select, update

from ._errors import EndpointNotFoundError
from ._models import Endpoint, EndpointWithSecret, new_id
from ._registry import EventRegistry
from ._sealing import SecretSealer, open_value, seal_value
from ._secret import WebhookSecret
from ._ssrf import URLGuard
from ._tables import WebhookTables

Now = Callable[[], datetime]
"""Returns the current aware UTC datetime."""


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def signing_secrets(row: Any, now: datetime, sealer: SecretSealer | None = None) -> list[str]:
    """Secrets a delivery is signed with: the current one, plus the previous during overlap.

    Stored values are opened with ``sealer`` (plaintext rows pass through).
    """
    found = [open_value(sealer, row.secret, row.id)]
    if (
        row.previous_secret
        and row.previous_secret_expires_at
        and row.previous_secret_expires_at > now
    ):
        found.append(open_value(sealer, row.previous_secret, row.id))
    return found


class EndpointService:
    """Endpoints per owner (a tenant, a user, an org: whatever string you scope by).

    Every method takes the ``owner`` so one owner can never see or change another's
    endpoints. URLs pass the SSRF guard at creation and on every URL change.

    Args:
        engine: A synchronous SQLAlchemy engine holding the webhook tables.
        tables: The webhook tables.
        guard: The SSRF guard URLs must pass.
        registry: When given, event-type filters must name registered types.
        sealer: Seals secrets at rest (AES-GCM bound to the endpoint); ``None`` stores
            them as they are (development only).
        now: Clock; inject a fake in tests.

    .. versionchanged:: 0.3.0
       ``sealer``: secrets are sealed at rest when keys are configured.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        tables: WebhookTables,
        guard: URLGuard,
        registry: EventRegistry | None = None,
        sealer: SecretSealer | None = None,
        now: Now = utcnow,
    ) -> None:
        self._engine = engine
        self._sealer = sealer
        self._t = tables
        self._guard = guard
        self._registry = registry
        self._now = now

    def _check_event_types(self, event_types: Iterable[str]) -> list[str]:
        if isinstance(event_types, str):
            raise TypeError("event_types is a list of event types, not one string")
        types = sorted(set(event_types))
        if self._registry is not None:
            for event_type in types:
                self._registry.get(event_type)
        return types

    def _row(self, owner: str, endpoint_id: str) -> Row[Any]:
        table = self._t.endpoints
        with self._engine.connect() as conn:
            row = conn.execute(
                select(table).where(table.c.id == endpoint_id, table.c.owner == owner)
            ).first()
        if row is None:
            raise EndpointNotFoundError(f"no endpoint {endpoint_id!r}")
        return row

    def create(
        self,
        owner: str,
        url: str,
        *,
        event_types: Sequence[str] = (),
        description: str = "",
        secret: WebhookSecret | str | None = None,
    ) -> EndpointWithSecret:
        """Register an endpoint; the answer is the only place its secret is shown.

        Args:
            owner: Who owns the endpoint.
            url: Where deliveries go (checked by the SSRF guard).
            event_types: Types delivered to it; empty means every type.
            description: Free text for the owner.
            secret: Use this secret instead of generating one (migrations from elsewhere).

        Raises:
            UnsafeURLError: The URL is refused.
            UnknownEventTypeError: A filter names an unregistered type.
        """
        self._guard.check_url(url)
        types = self._check_event_types(event_types)
        key = WebhookSecret.parse(secret) if secret is not None else WebhookSecret.generate()
        now = self._now()
        endpoint_id = new_id("ep")
        values = {
            "id": endpoint_id,
            "owner": owner,
            "url": url,
            "description": description,
            "event_types": types,
            "secret": seal_value(self._sealer, str(key), endpoint_id),
            "previous_secret": None,
            "previous_secret_expires_at": None,
            "enabled": True,
            "disabled_reason": None,
            "failing_since": None,
            "created_at": now,
            "updated_at": now,
        }
        with self._engine.begin() as conn:
            conn.execute(self._t.endpoints.insert().values(**values))
        return EndpointWithSecret(
            **Endpoint.from_row(_AttrDict(values)).model_dump(), secret=str(key)
        )

    def list(self, owner: str) -> list[Endpoint]:
        """Every endpoint of ``owner``, oldest first."""
        table = self._t.endpoints
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.owner == owner).order_by(table.c.created_at, table.c.id)
            ).all()
        return [Endpoint.from_row(r) for r in rows]

    def get(self, owner: str, endpoint_id: str) -> Endpoint:
        """One endpoint of ``owner``.

        Raises:
            EndpointNotFoundError: No such endpoint for this owner.
        """
        return Endpoint.from_row(self._row(owner, endpoint_id))

    def update(
        self,
        owner: str,
        endpoint_id: str,
        *,
        url: str | _Unset = UNSET,
        event_types: Sequence[str] | _Unset = UNSET,
        description: str | _Unset = UNSET,
        enabled: bool | _Unset = UNSET,
    ) -> Endpoint:
        """Change some fields of an endpoint; unset arguments keep their value.

        Enabling an endpoint clears its disabled reason and failure streak.

        Raises:
            EndpointNotFoundError: No such endpoint for this owner.
            UnsafeURLError: The new URL is refused.
        """
        self._row(owner, endpoint_id)
        values: dict[str, Any] = {"updated_at": self._now()}
        if not isinstance(url, _Unset):
            self._guard.check_url(url)
            values["url"] = url
        if not isinstance(event_types, _Unset):
            values["event_types"] = self._check_event_types(event_types)
        if not isinstance(description, _Unset):
            values["description"] = description
        if not isinstance(enabled, _Unset):
            values["enabled"] = bool(enabled)
            values["disabled_reason"] = None if enabled else "disabled by its owner"
            values["failing_since"] = None
        table = self._t.endpoints
        with self._engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id == endpoint_id, table.c.owner == owner)
                .values(**values)
            )
        return self.get(owner, endpoint_id)

    def disable(self, owner: str, endpoint_id: str) -> Endpoint:
        """Stop deliveries to an endpoint (pending ones are cancelled when they come due)."""
        return self.update(owner, endpoint_id, enabled=False)

    def enable(self, owner: str, endpoint_id: str) -> Endpoint:
        """Resume deliveries to an endpoint."""
        return self.update(owner, endpoint_id, enabled=True)

    def delete(self, owner: str, endpoint_id: str) -> None:
        """Delete an endpoint with its deliveries and attempt log.

        Raises:
            EndpointNotFoundError: No such endpoint for this owner.
        """
        self._row(owner, endpoint_id)
        t = self._t
        with self._engine.begin() as conn:
            conn.execute(delete(t.attempts).where(t.attempts.c.endpoint_id == endpoint_id))
            conn.execute(delete(t.deliveries).where(t.deliveries.c.endpoint_id == endpoint_id))
            conn.execute(delete(t.endpoints).where(t.endpoints.c.id == endpoint_id))

    def rotate_secret(
        self, owner: str, endpoint_id: str, *, overlap: timedelta = timedelta(hours=24)
    ) -> EndpointWithSecret:
        """Replace the secret; the old one keeps signing (second signature) for ``overlap``.

        Args:
            owner: The endpoint's owner.
            endpoint_id: The endpoint.
            overlap: How long deliveries carry both signatures, so the receiver can
                switch secrets without rejecting anything. ``timedelta(0)`` drops the
                old secret at once.
        """
        if overlap < timedelta(0):
            raise ValueError("overlap must not be negative")
        row = self._row(owner, endpoint_id)
        key = WebhookSecret.generate()
        now = self._now()
        table = self._t.endpoints
        with self._engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id == endpoint_id)
                .values(
                    secret=seal_value(self._sealer, str(key), endpoint_id),
                    # Re-sealed under the first key (the row may predate a key rotation).
                    previous_secret=seal_value(
                        self._sealer, open_value(self._sealer, row.secret, endpoint_id), endpoint_id
                    )
                    if overlap
                    else None,
                    previous_secret_expires_at=now + overlap if overlap else None,
                    updated_at=now,
                )
            )
        return EndpointWithSecret(**self.get(owner, endpoint_id).model_dump(), secret=str(key))


class _AttrDict(dict[str, Any]):
    def __getattr__(self, name: str) -> Any:
        return self[name]
