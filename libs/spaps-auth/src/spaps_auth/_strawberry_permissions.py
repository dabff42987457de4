"""Strawberry permission classes over the principal AuthenticationMiddleware found."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from ._access import Predicate, Principal
from ._errors import AuthenticationError, PermissionDeniedError, SpapsAuthError
from ._strawberry_context import for_graphql, get_principal, principal_scopes

__all__ = ["Allows", "HasPermissions", "HasRoles", "HasScopes", "IsAuthenticated"]

# Why the last check of this task was refused. Strawberry asks ``has_permission`` first
# and calls ``on_unauthorized()`` (without arguments) right after a refusal, so the
# reason travels between the two here, never on the shared permission instance; a
# context variable is private to each asyncio task, so concurrent fields cannot mix.
_REFUSAL: ContextVar[tuple[BasePermission, SpapsAuthError] | None] = ContextVar(
    "spaps_auth_strawberry_refusal", default=None
)


def _names(kind: str, values: Iterable[str]) -> frozenset[str]:
    names = tuple(values)
    if not names:
        raise ValueError(f"at least one {kind} is required")
    if not all(isinstance(v, str) and v for v in names):
        raise TypeError(f"{kind}s must be non-empty strings")
    return frozenset(names)


class _PrincipalPermission(BasePermission):
    """A check of the caller: anonymous -> 401, refused -> 403, as GraphQL errors."""

    message = "Forbidden"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        principal = get_principal(info)
        if principal is None:
            refusal: SpapsAuthError = AuthenticationError("authentication required")
        else:
            reason = self.refusal(principal, source)
            if reason is None:
                return True
            refusal = PermissionDeniedError(reason)
        _REFUSAL.set((self, for_graphql(refusal)))
        return False

    def refusal(self, principal: Principal, source: Any) -> str | None:
        """Why ``principal`` may not resolve the field of ``source``; ``None``: it may."""
        return None

    def on_unauthorized(self) -> None:
        """Raise the refusal the last ``has_permission`` of this task recorded."""
        recorded = _REFUSAL.get()
        _REFUSAL.set(None)
        if recorded is not None and recorded[0] is self:
            raise recorded[1]
        raise for_graphql(PermissionDeniedError(self.message))


class IsAuthenticated(_PrincipalPermission):
    """The field needs an authenticated caller (bearer token or API key).

    Use as ``permission_classes=[IsAuthenticated]`` or
    ``extensions=[PermissionExtension(permissions=[IsAuthenticated()])]``. An anonymous
    request gets a GraphQL error with ``extensions.code`` ``auth.unauthenticated``.

    .. versionadded:: 0.6.0
    """


class HasRoles(_PrincipalPermission):
    """The caller must hold every one of ``roles`` (or one of them with ``any_of``).

    Args:
        roles: Role names.
        any_of: Accept a caller holding at least one of the roles.

    Raises:
        ValueError: No role given.

    .. versionadded:: 0.6.0
    """

    def __init__(self, *roles: str, any_of: bool = False) -> None:
        self.roles = _names("role", roles)
        self.any_of = any_of

    def refusal(self, principal: Principal, source: Any) -> str | None:
        if self.any_of:
            if self.roles.isdisjoint(principal.roles):
                return f"requires one of the roles {sorted(self.roles)}"
            return None
        missing = self.roles - principal.roles
        return f"missing roles {sorted(missing)}" if missing else None


class HasPermissions(_PrincipalPermission):
    """The caller must have every one of ``permissions`` (roles expanded by the registry
    of the Authenticator; an API key's scopes count as its permissions).

    Args:
        permissions: Permission names.

    Raises:
        ValueError: No permission given.

    .. versionadded:: 0.6.0
    """

    def __init__(self, *permissions: str) -> None:
        self.permissions = _names("permission", permissions)

    def refusal(self, principal: Principal, source: Any) -> str | None:
        missing = self.permissions - principal.permissions
        return f"missing permissions {sorted(missing)}" if missing else None


class HasScopes(_PrincipalPermission):
    """The caller's token must grant every one of ``scopes``.

    Scopes come from the token's ``scope`` claim (space-separated) and ``scp`` claim (a
    list or a space-separated string); an API key's scopes are the ones it was created
    with.

    Args:
        scopes: Scope names.

    Raises:
        ValueError: No scope given.

    .. versionadded:: 0.6.0
    """

    def __init__(self, *scopes: str) -> None:
        self.scopes = _names("scope", scopes)

    def refusal(self, principal: Principal, source: Any) -> str | None:
        missing = self.scopes - principal_scopes(principal)
        return f"missing scopes {sorted(missing)}" if missing else None


class Allows(_PrincipalPermission):
    """An ABAC rule checked against the field's source (its parent object).

    ``Allows(is_owner())`` on ``Note.body`` lets only the note's owner read the body; on
    a root field the source is the schema's root value (usually ``None``).

    Args:
        predicate: The rule, e.g. ``any_of(is_owner(), has_permission("notes:read_all"))``.

    Raises:
        TypeError: ``predicate`` is not callable.

    .. versionadded:: 0.6.0
    """

    def __init__(self, predicate: Predicate) -> None:
        if not callable(predicate):
            raise TypeError("predicate must be callable: (principal, resource) -> bool")
        self.predicate = predicate

    def refusal(self, principal: Principal, source: Any) -> str | None:
        return None if self.predicate(principal, source) else "not allowed on this resource"
