"""Who may read and edit the catalog, and how often.

Readers authenticate with an API key (``X-API-Key``, spaps-auth, hashed at rest, plan in
its scopes) or an htma access token (verified through htma's JWKS, cached: ingredient
keeps verifying while htma is down). spaps-auth's ``AuthenticationMiddleware``
authenticates each request once, before routing, and leaves the principal in the request
state; spaps-ratelimit's ``RateLimitMiddleware`` then decides the read routes'
:func:`plan_limit`, keyed by that principal, before the app runs. Editors are token
holders with the platform permission to edit the shared catalog, which no tenant role
carries: an operator grants it to htma users by id (``ingredient editors grant``), see
:mod:`ingredient.catalog.audit`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from spaps_auth import PermissionDeniedError, Principal
from spaps_auth.fastapi import CurrentPrincipal, get_optional_principal
from spaps_ops.db import SessionDep
from spaps_ratelimit import Limit, RouteLimit
from starlette.requests import HTTPConnection
from starlette.types import Scope

from ingredient.catalog.audit import is_catalog_editor

PLAN_SCOPE = "plan:"
TOKEN_PLAN = "token"  # noqa: S105 -- a plan name, not a secret
DEFAULT_PLAN = "free"


def plan_of(principal: Principal) -> str:
    """The caller's plan: an API key's ``plan:<name>`` scope, ``token`` for bearer tokens."""
    if principal.auth_method != "api_key":
        return TOKEN_PLAN
    plans = sorted(s[len(PLAN_SCOPE) :] for s in principal.permissions if s.startswith(PLAN_SCOPE))
    return plans[0] if plans else DEFAULT_PLAN


def rate_key(principal: Principal) -> str:
    """The caller's rate-limit key, ``<plan>:<caller>`` (an API key's id, else the subject)."""
    caller = principal.claims.get("api_key_id") or principal.subject
    return f"{plan_of(principal)}:{caller}"


async def plan_key(scope: Scope) -> str | None:
    """Key function: the rate key of the principal the authentication middleware found
    (``None`` without one: the route's dependency then answers 401 before any limit).

    Read through spaps-auth's ``get_optional_principal``, which takes the middleware's
    result for this request (``None`` included), never a principal an earlier request left
    in a request state its server shares between requests (as asgi-lifespan's does)."""
    principal = await get_optional_principal(HTTPConnection(scope))
    return None if principal is None else rate_key(principal)


async def reader(principal: CurrentPrincipal) -> Principal:
    """Any authenticated caller (the principal the middleware found; no second check)."""
    return principal


def carries_api_key(scope: Scope) -> bool:
    """Whether a request presents an API key (an attempt the failure budget counts)."""
    return any(name == b"x-api-key" for name, _ in scope["headers"])


def plan_limit(plans: dict[str, str]) -> RouteLimit:
    """A route limit whose limits depend on the plan in the caller's rate key
    (:func:`plan_key`); ``RateLimitMiddleware`` decides it before the route runs.

    Args:
        plans: plan name -> ``"<count>/<period>"``; unknown plans get ``free``'s limit.
    """
    parsed = {name: [Limit.parse(text)] for name, text in plans.items()}
    default = parsed.get(DEFAULT_PLAN) or next(iter(parsed.values()))

    def limits_of(key: str) -> list[Limit] | None:
        return parsed.get(key.split(":", 1)[0])

    return RouteLimit(default, key=plan_key, overrides=limits_of, name="plan")


async def editor(principal: CurrentPrincipal, session: SessionDep) -> Principal:
    """A bearer-token caller an operator granted the catalog permission (roles do not
    count: a clinic's lab admin is a tenant role, the catalog is every clinic's)."""
    if principal.auth_method != "bearer" or not await is_catalog_editor(session, principal.subject):
        raise PermissionDeniedError(
            "editing the shared catalog needs the platform permission an operator grants "
            "(ingredient editors grant <user id>)"
        )
    return principal


ReaderDep = Annotated[Principal, Depends(reader)]
EditorDep = Annotated[Principal, Depends(editor)]
