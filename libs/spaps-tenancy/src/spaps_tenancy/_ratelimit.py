"""Callables shaped for spaps-ratelimit's key and override hooks (no import of it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._context import get_tenant
from ._resolvers import TenantResolver

LimitsT = TypeVar("LimitsT")


def tenant_rate_limit_key(
    *, resolver: TenantResolver | None = None, prefix: str = "tenant:"
) -> Callable[[Any], str | None]:
    """Return a rate-limit key function that keys requests by tenant.

    The function takes a Starlette ``Request`` (or anything with ``.scope``) or an ASGI
    scope and returns ``prefix + tenant_id``: from the tenant context when
    :class:`TenantMiddleware` already ran, otherwise from ``resolver`` (when the rate
    limiter sits outside the tenant middleware). ``None`` means "no tenant": the limiter
    falls back to its next key.

    Args:
        resolver: Used when no tenant context is set.
        prefix: Prepended to the tenant id so tenant keys never collide with IP keys.

    .. versionadded:: 0.1.0
    """

    def key(request_or_scope: Any) -> str | None:
        tenant_id = get_tenant()
        if tenant_id is None and resolver is not None:
            scope = getattr(request_or_scope, "scope", request_or_scope)
            if isinstance(scope, Mapping):
                tenant_id = resolver(dict(scope))
        return None if tenant_id is None else prefix + tenant_id

    return key


def plan_limits_override(
    *,
    plans: Mapping[str, LimitsT],
    plan_of: Callable[[str], str | None],
    prefix: str = "tenant:",
) -> Callable[[str], LimitsT | None]:
    """Return an override function giving a tenant key the limits of its plan.

    Args:
        plans: Limits per plan name (whatever object the rate limiter takes).
        plan_of: Returns a tenant's plan name (``None``: no override).
        prefix: The prefix used by :func:`tenant_rate_limit_key`; other keys get ``None``.

    Raises:
        KeyError: ``plan_of`` named a plan missing from ``plans`` (a configuration bug).

    .. versionadded:: 0.1.0
    """
    frozen = dict(plans)

    def override(key: str) -> LimitsT | None:
        if not key.startswith(prefix):
            return None
        plan = plan_of(key[len(prefix) :])
        if plan is None:
            return None
        if plan not in frozen:
            raise KeyError(f"tenant plan {plan!r} has no rate limits configured")
        return frozen[plan]

    return override
