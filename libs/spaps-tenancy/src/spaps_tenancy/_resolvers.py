"""Tenant resolvers: plain callables from an ASGI scope to a tenant id (or ``None``).

A resolver answers ``None`` when its source is absent, so resolvers compose with
:func:`first_of`. It raises :class:`TenantInvalidError` when the source is present but
unusable, so a malformed value is never silently skipped in favour of another source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import Scope

from ._errors import TenantInvalidError

TenantResolver = Callable[[Scope], str | None]
"""Finds the tenant of a request from its ASGI scope (``request.scope`` for a Request)."""


def header_resolver(name: str = "x-tenant-id") -> TenantResolver:
    """Resolve the tenant from a request header.

    Args:
        name: Header name (case-insensitive).

    Raises:
        ValueError: ``name`` is empty.

    .. versionadded:: 0.1.0
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("header name must be a non-empty str")
    raw_name = name.strip().lower().encode("latin-1")

    def resolve(scope: Scope) -> str | None:
        values = {v for k, v in scope.get("headers", ()) if k.lower() == raw_name}
        if not values:
            return None
        if len(values) > 1:
            # Two different tenants in one request is an attack or a bug; never pick one.
            raise TenantInvalidError(f"conflicting {name} headers")
        value = values.pop().decode("latin-1").strip()
        return value or None

    return resolve


def subdomain_resolver(base_domain: str, *, reserved: tuple[str, ...] = ("www",)) -> TenantResolver:
    """Resolve the tenant from the first label of the host: ``acme.example.com`` -> ``acme``.

    Args:
        base_domain: The domain tenants are sub-domains of (``example.com``).
        reserved: Sub-domains that are not tenants (answer ``None``).

    Raises:
        ValueError: ``base_domain`` is empty.

    .. versionadded:: 0.1.0
    """
    if not isinstance(base_domain, str) or not base_domain.strip(". "):
        raise ValueError("base_domain must be a non-empty domain name")
    suffix = "." + base_domain.strip(". ").lower()
    reserved_set = frozenset(r.lower() for r in reserved)

    def resolve(scope: Scope) -> str | None:
        host = ""
        for key, value in scope.get("headers", ()):
            if key == b"host":
                host = value.decode("latin-1")
                break
        host = host.lower().rsplit(":", 1)[0] if ":" in host else host.lower()
        if not host.endswith(suffix):
            return None
        label = host[: -len(suffix)]
        if not label or label in reserved_set:
            return None
        if "." in label:
            raise TenantInvalidError(f"host {host!r} nests more than one sub-domain")
        return label

    return resolve


def claim_resolver(claim: str = "tenant_id", *, state_key: str = "claims") -> TenantResolver:
    """Resolve the tenant from a claim an earlier authentication step verified.

    The authentication middleware or dependency stores the verified token claims in the
    request state (``scope["state"][state_key]``, i.e. ``request.state.claims``); this
    resolver only reads them, so it needs no import of the auth library.

    Args:
        claim: Claim holding the tenant id.
        state_key: Key of the claims mapping in the request state.

    .. versionadded:: 0.1.0
    """
    if not claim or not state_key:
        raise ValueError("claim and state_key must be non-empty")

    def resolve(scope: Scope) -> str | None:
        state: Any = scope.get("state")
        if state is None:
            return None
        claims = (
            state.get(state_key) if isinstance(state, Mapping) else getattr(state, state_key, None)
        )
        if not isinstance(claims, Mapping):
            return None
        value = claims.get(claim)
        if value is None:
            return None
        if not isinstance(value, str):
            raise TenantInvalidError(f"claim {claim!r} is not a string")
        return value

    return resolve


def first_of(*resolvers: TenantResolver) -> TenantResolver:
    """Compose resolvers: the first one that finds a tenant wins.

    Args:
        resolvers: Resolvers tried in order.

    Raises:
        ValueError: No resolver was given.

    .. versionadded:: 0.1.0
    """
    if not resolvers:
        raise ValueError("first_of() needs at least one resolver")
    for resolver in resolvers:
        if not callable(resolver):
            raise TypeError(f"resolver {resolver!r} is not callable")

    def resolve(scope: Scope) -> str | None:
        for resolver in resolvers:
            tenant_id = resolver(scope)
            if tenant_id is not None:
                return tenant_id
        return None

    return resolve
