"""What htma's OpenAPI says its stack and the routes it includes from libraries answer.

``spaps_ops.document_problems`` adds :data:`SECURED_ERRORS` to every non-public operation
(merged into a route's own entry of the same status) and takes :data:`OPERATION_ERRORS`
for the operations whose routes come from spaps-auth and spaps-webhooks, which declare
no errors of their own. Each entry names exactly the codes that can be answered there, so
a client generated from the document handles those and is not told of the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from spaps_auth import (
    AuthenticationError,
    InvalidTokenError,
    PermissionDeniedError,
    RefreshTokenReusedError,
    TokenExpiredError,
    TokenRevokedError,
)
from spaps_auth import NotFoundError as SessionNotFoundError
from spaps_ops import openapi_problem
from spaps_ratelimit import RateLimitExceeded
from spaps_webhooks import (
    EndpointNotFoundError,
    MessageNotFoundError,
    UnknownEventTypeError,
    UnsafeURLError,
)

from htma.errors import ForbiddenError

#: What the auth and tenancy stack answers on every route but the public ones: no token,
#: a bad or expired one, or one whose session was revoked; a role without the permission,
#: or another clinic's resource.
SECURED_ERRORS: dict[int, Any] = {
    401: openapi_problem(
        "Missing, invalid or expired credentials",
        AuthenticationError, InvalidTokenError, TokenExpiredError, TokenRevokedError,
    ),
    403: openapi_problem(
        "The role lacks the permission, or the resource belongs to another clinic",
        PermissionDeniedError, ForbiddenError,
    ),
}  # fmt: skip
#: The clinic's plan limit, on the routers included with it.
PLAN_LIMITED: dict[int | str, Any] = {
    429: openapi_problem("The clinic's plan allows no more requests for now", RateLimitExceeded)
}
#: The refresh exchange is public (its credential is the refresh token in the body).
REFRESH_ERRORS: dict[int | str, Any] = {
    401: openapi_problem(
        "Unknown, expired or revoked refresh token, or one used twice (which revokes the "
        "session)",
        InvalidTokenError, TokenExpiredError, TokenRevokedError, RefreshTokenReusedError,
    )
}  # fmt: skip

_ENDPOINT: Sequence[type[Exception]] = (EndpointNotFoundError,)
#: operationId -> what a library's route answers besides the stack's errors.
OPERATION_ERRORS: dict[str, Sequence[type[Exception]]] = {
    # spaps-auth's session routes
    "logout": (),
    "list_sessions": (),
    "revoke_session": (SessionNotFoundError,),
    # spaps-webhooks' management routes
    "list_event_types": (),
    "list_endpoints": (),
    "create_endpoint": (UnsafeURLError, UnknownEventTypeError),
    "get_endpoint": _ENDPOINT,
    "update_endpoint": (EndpointNotFoundError, UnsafeURLError, UnknownEventTypeError),
    "disable_endpoint": _ENDPOINT,
    "enable_endpoint": _ENDPOINT,
    "delete_endpoint": _ENDPOINT,
    "rotate_secret": _ENDPOINT,
    "test_fire": _ENDPOINT,
    "endpoint_attempts": _ENDPOINT,
    "message_deliveries": (MessageNotFoundError,),
    "message_attempts": (MessageNotFoundError,),
    "replay_message": (MessageNotFoundError, EndpointNotFoundError),
    "replay_since": _ENDPOINT,
    # htma's own routes with a body, whose entries name every error they answer: none of
    # them looks up anything the caller names, so the stack adds no 404 to them
    "confirm_totp": (),
    "change": (),
    "disable": (),
    "invite": (),
    "add_user": (),
    "erase_clinic": (),
}


def document_refresh(router: APIRouter) -> None:
    """Give spaps-auth's refresh route its 401 entry (call it before including ``router``)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.name == "refresh":
            route.responses.update(REFRESH_ERRORS)
