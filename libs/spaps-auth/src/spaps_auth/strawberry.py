"""GraphQL (Strawberry) integration: the caller, permission classes and ABAC checks.

Put :class:`~spaps_auth.fastapi.AuthenticationMiddleware` in front of Strawberry's
``GraphQLRouter``; resolvers and permissions then read the principal it found::

    @strawberry.type
    class Query:
        @strawberry.field(permission_classes=[IsAuthenticated])
        def me(self, info: strawberry.Info) -> str:
            return require_principal(info).subject

        @strawberry.field(extensions=[PermissionExtension(permissions=[HasRoles("admin")])])
        def audit(self) -> list[str]: ...

A refused check is a GraphQL error whose ``extensions`` hold the ``code``, ``status`` and
``title`` of spaps-auth's REST error: ``auth.unauthenticated`` (401) for an anonymous
request, ``auth.forbidden`` (403) for a caller who lacks the role, permission or scope.

Needs the ``strawberry`` extra (``pip install 'spaps-auth[strawberry]'``); the rest of
the library imports without it.

.. versionadded:: 0.6.0
"""

from __future__ import annotations

from ._strawberry_context import authorize_resource, get_principal, require_principal
from ._strawberry_permissions import Allows, HasPermissions, HasRoles, HasScopes, IsAuthenticated

__all__ = [
    "Allows",
    "HasPermissions",
    "HasRoles",
    "HasScopes",
    "IsAuthenticated",
    "authorize_resource",
    "get_principal",
    "require_principal",
]
