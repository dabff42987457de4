"""Who may read and edit the catalog, and how often.

Readers authenticate with an API key (``X-API-Key``, spaps-auth, hashed at rest, plan in
its scopes) or an htma access token (verified through htma's JWKS, cached: ingredient
keeps verifying while htma is down). Each caller is rate-limited by plan
(spaps-ratelimit, keyed after authentication). Editors are token holders with one of
``editor_roles``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from spaps_auth import PermissionDeniedError, Principal
from spaps_auth.fastapi import CurrentPrincipal
from spaps_ratelimit import Limit, RouteLimit, state_key

from ingredient.deps import SettingsDep

RATE_KEY = "rate_key"
PLAN_SCOPE = "plan:"
TOKEN_PLAN = "token"  # noqa: S105 -- a plan name, not a secret
DEFAULT_PLAN = "free"


def plan_of(principal: Principal) -> str:
    """The caller's plan: an API key's ``plan:<name>`` scope, ``token`` for bearer tokens."""
    if principal.auth_method != "api_key":
        return TOKEN_PLAN
    plans = sorted(s[len(PLAN_SCOPE) :] for s in principal.permissions if s.startswith(PLAN_SCOPE))
    return plans[0] if plans else DEFAULT_PLAN


async def reader(request: Request, principal: CurrentPrincipal) -> Principal:
    """Any authenticated caller; records its rate-limit key (``<plan>:<caller>``)."""
    caller = principal.claims.get("api_key_id") or principal.subject
    request.state.rate_key = f"{plan_of(principal)}:{caller}"
    return principal


def plan_limit(plans: dict[str, str]) -> RouteLimit:
    """A route limit whose limits depend on the plan in the caller's rate key.

    Args:
        plans: plan name -> ``"<count>/<period>"``; unknown plans get ``free``'s limit.
    """
    parsed = {name: [Limit.parse(text)] for name, text in plans.items()}
    default = parsed.get(DEFAULT_PLAN) or next(iter(parsed.values()))

    def limits_of(key: str) -> list[Limit] | None:
        return parsed.get(key.split(":", 1)[0])

    return RouteLimit(default, key=state_key(RATE_KEY), overrides=limits_of, name="plan")


def editor(principal: CurrentPrincipal, settings: SettingsDep) -> Principal:
    """A bearer-token caller holding one of the editor roles."""
    if principal.auth_method != "bearer" or not principal.roles & set(settings.editor_roles):
        raise PermissionDeniedError("editing needs an htma token with an editor role")
    return principal


ReaderDep = Annotated[Principal, Depends(reader)]
EditorDep = Annotated[Principal, Depends(editor)]
