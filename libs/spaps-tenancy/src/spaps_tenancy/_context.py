"""The current tenant, held in a context variable.

A context variable follows the code that runs for one request (asyncio tasks copy it,
Starlette's thread-pool calls copy it), so handlers, background jobs and CLIs all use
the same two calls: ``with tenant_context(tid): ...`` to set it and ``current_tenant()``
to read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._errors import TenantContextError

_TENANT: ContextVar[str | None] = ContextVar("spaps_tenancy_tenant", default=None)


def _check_tenant_id(tenant_id: object) -> str:
    if not isinstance(tenant_id, str):
        raise TypeError(f"tenant_id must be a str, got {type(tenant_id).__name__}")
    if not tenant_id or tenant_id.strip() != tenant_id:
        raise ValueError(
            f"tenant_id must be a non-empty str without surrounding spaces: {tenant_id!r}"
        )
    return tenant_id


@contextmanager
def tenant_context(tenant_id: str) -> Iterator[str]:
    """Run the block with ``tenant_id`` as the current tenant; restore the previous one after.

    Args:
        tenant_id: The tenant to act for (a non-empty string).

    Raises:
        TypeError: ``tenant_id`` is not a string.
        ValueError: ``tenant_id`` is empty or has surrounding whitespace.

    .. versionadded:: 0.1.0
    """
    token = _TENANT.set(_check_tenant_id(tenant_id))
    try:
        yield tenant_id
    finally:
        _TENANT.reset(token)


def current_tenant() -> str:
    """Return the current tenant.

    Raises:
        TenantContextError: No tenant is set: isolation must never fall back to a default.

    .. versionadded:: 0.1.0
    """
    tenant_id = _TENANT.get()
    if tenant_id is None:
        raise TenantContextError("no tenant is set; use tenant_context() or TenantMiddleware")
    return tenant_id


def get_tenant() -> str | None:
    """Return the current tenant, or ``None`` when none is set.

    .. versionadded:: 0.1.0
    """
    return _TENANT.get()
