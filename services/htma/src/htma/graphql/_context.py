"""The context of a GraphQL operation: the caller and the request's DataLoaders."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from spaps_auth import PermissionDeniedError, Principal
from spaps_auth.fastapi import get_optional_principal
from spaps_ops.db import session_scope
from spaps_tenancy import get_tenant
from strawberry.fastapi import BaseContext

from htma.clinics.roles import Role
from htma.deps import Caller, get_services
from htma.graphql._loaders import Loaders


def caller_of(principal: Principal | None, clinic: str | None) -> Caller | None:
    """The caller as REST's ``get_caller`` decides it, or ``None`` where REST refuses."""
    role = next(iter(principal.roles), None) if principal is not None else None
    if principal is None or clinic is None or role not in {r.value for r in Role}:
        return None
    return Caller(principal.subject, clinic, Role(role), principal)


class GraphQLContext(BaseContext):
    """What resolvers read: the caller (``None`` for a token REST would refuse) and the
    request's :class:`~htma.graphql._loaders.Loaders`. Strawberry sets ``request`` and
    ``response`` (a ``BaseContext``), which the spaps libraries' extensions read.

    Args:
        caller: the request's caller.
        loaders: the request's DataLoaders.

    .. versionadded:: 0.7.0
    """

    def __init__(self, caller: Caller | None, loaders: Loaders) -> None:
        super().__init__()
        self.caller = caller
        self.loaders = loaders

    def require_caller(self) -> Caller:
        """The caller, or 403 ``auth.forbidden`` as REST answers a token without a clinic
        or a known role."""
        if self.caller is None:
            raise PermissionDeniedError("the token carries no clinic or role")
        return self.caller


async def graphql_context(request: Request) -> AsyncIterator[GraphQLContext]:
    """The context getter (a FastAPI dependency): one session and one set of loaders per
    request, the session closed when the request ends.

    .. versionadded:: 0.7.0
    """
    caller = caller_of(await get_optional_principal(request), get_tenant())
    async with session_scope(get_services(request).sessions) as session:
        yield GraphQLContext(caller, Loaders(session, caller))
