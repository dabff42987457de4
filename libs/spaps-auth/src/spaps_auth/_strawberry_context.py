"""The caller of a GraphQL operation, read from the request AuthenticationMiddleware saw.

Only this module and the other ``_strawberry_*`` modules import Strawberry, so the
library imports without the ``strawberry`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from starlette.requests import HTTPConnection
from strawberry.types import Info

from ._access import Predicate, Principal
from ._errors import AuthenticationError, PermissionDeniedError, SpapsAuthError
from ._middleware import PRINCIPAL_STATE_KEY

__all__ = [
    "authorize_resource",
    "for_graphql",
    "get_principal",
    "principal_scopes",
    "require_principal",
]

_E = TypeVar("_E", bound=SpapsAuthError)


def for_graphql(error: _E) -> _E:
    """``error`` with ``code``, ``status`` and ``title`` in its ``extensions``.

    graphql-core copies the ``extensions`` dict of the exception a resolver raises into
    the GraphQL error, so the answer carries ``extensions.code`` without any extension
    installed. The problem+json rendering of the same error is unchanged: these members
    repeat the values the body already has.
    """
    error.extensions = {
        "code": error.code,
        "status": error.status,
        "title": error.title,
        **(error.extensions or {}),
    }
    return error


def _connection(context: Any) -> HTTPConnection:
    # Strawberry's FastAPI default context is a dict; a custom context_getter usually
    # returns an object (BaseContext) with the same members as attributes.
    request = context.get("request") if isinstance(context, Mapping) else None
    if request is None:
        request = getattr(context, "request", None)
    if not isinstance(request, HTTPConnection):
        raise RuntimeError(
            "the GraphQL context holds no request: use Strawberry's FastAPI context "
            "(a dict with 'request') or an object with a 'request' attribute"
        )
    return request


def get_principal(info: Info[Any, Any]) -> Principal | None:
    """The principal :class:`~spaps_auth.fastapi.AuthenticationMiddleware` found for this
    operation's request; ``None`` for an anonymous request.

    Args:
        info: The resolver's (or permission's) Strawberry ``Info``.

    Raises:
        RuntimeError: The context holds no request, or the middleware did not run for it
            (an absent middleware must not read as "anonymous").

    .. versionadded:: 0.6.0
    """
    state = _connection(info.context).scope.get("state")
    if not isinstance(state, Mapping) or PRINCIPAL_STATE_KEY not in state:
        raise RuntimeError(
            "AuthenticationMiddleware did not run for this request: add it in front of "
            "the GraphQL router"
        )
    principal = state[PRINCIPAL_STATE_KEY]
    if principal is not None and not isinstance(principal, Principal):
        raise RuntimeError(f"request state {PRINCIPAL_STATE_KEY!r} holds no Principal")
    return principal


def require_principal(info: Info[Any, Any]) -> Principal:
    """The authenticated caller of this operation.

    Args:
        info: The resolver's Strawberry ``Info``.

    Raises:
        AuthenticationError: The request is anonymous (401 ``auth.unauthenticated``; the
            GraphQL error carries it in ``extensions.code``).

    .. versionadded:: 0.6.0
    """
    principal = get_principal(info)
    if principal is None:
        raise for_graphql(AuthenticationError("authentication required"))
    return principal


def authorize_resource(info: Info[Any, Any], resource: Any, predicate: Predicate) -> None:
    """ABAC inside a resolver: the caller must pass ``predicate`` on ``resource``.

    Args:
        info: The resolver's Strawberry ``Info``.
        resource: The object acted on (mapping or object with attributes).
        predicate: The rule, e.g. ``any_of(is_owner(), has_permission("notes:read_all"))``.

    Raises:
        AuthenticationError: The request is anonymous (``auth.unauthenticated``).
        PermissionDeniedError: The predicate refuses (403 ``auth.forbidden``).

    .. versionadded:: 0.6.0
    """
    principal = require_principal(info)
    if not predicate(principal, resource):
        raise for_graphql(PermissionDeniedError("not allowed on this resource"))


def principal_scopes(principal: Principal) -> frozenset[str]:
    """The OAuth scopes of ``principal``: its token's ``scope`` (space-separated) and
    ``scp`` (a list or a space-separated string) claims; an API key's scopes."""
    if principal.auth_method == "api_key":
        # An API key's scopes are what it grants; the Authenticator stores them as the
        # principal's permissions (there is no token to carry a scope claim).
        return principal.permissions
    scopes: set[str] = set()
    for claim in ("scope", "scp"):
        value = principal.claims.get(claim)
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list | tuple):
            scopes.update(v for v in value if isinstance(v, str) and v)
    return frozenset(scopes)
