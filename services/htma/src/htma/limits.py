"""Rate limits (spaps-ratelimit): per client IP on sign-up and login, per clinic plan on
the authenticated API.

Both are :class:`~spaps_ratelimit.RouteLimit` s attached to their routes as dependencies;
``RateLimitMiddleware`` (installed by :func:`htma.app.create_app`) finds them and decides
before routing, so a refused request never reaches a dependency, a session or a handler.
"""

from __future__ import annotations

from collections.abc import Mapping

from spaps_ratelimit import Limit, RouteLimit, client_ip
from starlette.types import Scope

#: The token claim naming the clinic's plan (signed by htma: clients cannot change it).
PLAN_CLAIM = "plan"
#: Sign-up and login attempts per client IP (credential stuffing, sign-up spam).
auth_limit = RouteLimit("20/minute", key=client_ip(), name="auth")
#: Reads of an erasure's status per client IP (a public route: polling, not guessing).
status_limit = RouteLimit("120/minute", key=client_ip(), name="erasure_status")


def plan_clinic_key(scope: Scope) -> str | None:
    """``<plan>:<clinic>`` of an authenticated request, from what the middleware set.

    The clinic is ``request.state.tenant_id`` (spaps-tenancy's ``TenantMiddleware``), the
    plan the ``plan`` claim of the verified token (spaps-auth's
    ``AuthenticationMiddleware`` leaves the claims in ``request.state.claims``); a token
    without a plan counts as ``standard``. ``None`` (no clinic): the limit does not apply.
    """
    state = scope.get("state")
    if not isinstance(state, Mapping):
        return None
    clinic = state.get("tenant_id")
    if not isinstance(clinic, str):
        return None
    claims = state.get("claims")
    plan = claims.get(PLAN_CLAIM) if isinstance(claims, Mapping) else None
    return f"{plan if isinstance(plan, str) else 'standard'}:{clinic}"


def clinic_limit(plans: Mapping[str, str]) -> RouteLimit:
    """The limit of each clinic by its plan, keyed ``<plan>:<clinic>``.

    Args:
        plans: plan name -> ``"<count>/<period>"``; unknown plans get ``standard``'s.
    """
    parsed = {name: [Limit.parse(text)] for name, text in plans.items()}
    default = parsed.get("standard") or next(iter(parsed.values()))
    return RouteLimit(
        default,
        key=plan_clinic_key,
        overrides=lambda key: parsed.get(key.split(":", 1)[0]),
        name="clinic",
    )
