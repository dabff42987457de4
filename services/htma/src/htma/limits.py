"""Rate limits (spaps-ratelimit): per client IP on sign-up and login, per clinic plan on
the authenticated API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from spaps_ratelimit import Limit, RouteLimit, client_ip, state_key

from htma.deps import CallerDep

RATE_KEY = "rate_key"
#: Sign-up and login attempts per client IP (credential stuffing, sign-up spam).
auth_limit = RouteLimit("20/minute", key=client_ip(), name="auth")


def clinic_limit(plans: dict[str, str]) -> Callable[..., Awaitable[None]]:
    """A dependency limiting each clinic by its plan (the token's ``plan`` claim).

    Args:
        plans: plan name -> ``"<count>/<period>"``; unknown plans get ``standard``'s.
    """
    parsed = {name: [Limit.parse(text)] for name, text in plans.items()}
    default = parsed.get("standard") or next(iter(parsed.values()))
    limit = RouteLimit(
        default,
        key=state_key(RATE_KEY),
        overrides=lambda key: parsed.get(key.split(":", 1)[0]),
        name="clinic",
    )

    async def dependency(request: Request, response: Response, caller: CallerDep) -> None:
        plan = caller.principal.claims.get("plan")
        request.state.rate_key = f"{plan if isinstance(plan, str) else 'standard'}:{caller.clinic}"
        await limit(request, response)

    return dependency
