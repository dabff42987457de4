"""Key functions for users, API keys and tenants, and a combinator."""

from __future__ import annotations

import hashlib
import inspect

from starlette.types import Scope

from .types import KeyFunc


def state_key(name: str, *, prefix: str = "") -> KeyFunc:
    """Key by ``request.state.<name>`` (``scope["state"][name]``), e.g. a user id.

    Authentication or tenancy code sets the value earlier in the request; when it is
    missing the key is ``None`` and the policy does not apply (combine with
    :func:`first_of` to fall back to the client IP).

    Args:
        name: The state attribute.
        prefix: Prepended to the value, e.g. ``"user:"``.

    .. versionadded:: 0.1.0
    """
    if not name.isidentifier():
        raise ValueError(f"name must be an identifier, got {name!r}")

    def key(scope: Scope) -> str | None:
        value = scope.get("state", {}).get(name)
        return None if value is None else f"{prefix}{value}"

    return key


def user_key(*, attribute: str = "user_id") -> KeyFunc:
    """Key by the authenticated user id in ``request.state.user_id``."""
    return state_key(attribute, prefix="user:")


def tenant_key(*, attribute: str = "tenant_id") -> KeyFunc:
    """Key by the tenant id in ``request.state.tenant_id``."""
    return state_key(attribute, prefix="tenant:")


def api_key(*, header: str = "x-api-key") -> KeyFunc:
    """Key by an API key header, hashed so no secret is ever written to the store.

    Args:
        header: The header carrying the key.

    .. versionadded:: 0.1.0
    """
    raw = header.lower().encode("latin-1")

    def key(scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == raw and value:
                return "apikey:" + hashlib.sha256(value).hexdigest()[:32]
        return None

    return key


def first_of(*keys: KeyFunc) -> KeyFunc:
    """The first key function that returns a key, e.g. ``first_of(user_key(), client_ip())``.

    .. versionadded:: 0.1.0
    """
    if not keys or not all(callable(k) for k in keys):
        raise TypeError("first_of needs one or more key functions")

    async def key(scope: Scope) -> str | None:
        for func in keys:
            value = func(scope)
            if inspect.isawaitable(value):
                value = await value
            if value is not None:
                return value
        return None

    return key
