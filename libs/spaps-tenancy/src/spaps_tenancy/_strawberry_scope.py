"""Strawberry pieces that keep GraphQL operations inside the request's tenant.

Only this module (and ``strawberry.py``) imports Strawberry, so the library imports
without the ``strawberry`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import ExecutionContext, Info

from ._context import get_tenant, tenant_context
from ._errors import SpapsTenancyError, TenantMissingError

__all__ = ["TenantRequired", "TenantScope"]

_E = TypeVar("_E", bound=SpapsTenancyError)

# The operation each TenantScope hook belongs to, per asyncio task (see TenantScope).
_OPERATION: ContextVar[ExecutionContext | None] = ContextVar(
    "spaps_tenancy_strawberry_operation", default=None
)


def _for_graphql(error: _E) -> _E:
    # graphql-core copies the ``extensions`` dict of a raised exception into the GraphQL
    # error; the problem+json body of the same error is unchanged (same values).
    error.extensions = {
        "code": error.code,
        "status": error.status,
        "title": error.title,
        **(error.extensions or {}),
    }
    return error


def _missing() -> TenantMissingError:
    return _for_graphql(TenantMissingError("the request does not name a tenant"))


def _state_tenant(context: Any) -> str | None:
    """``request.state.tenant_id`` of the operation's request, if it holds a tenant id."""
    request = context.get("request") if isinstance(context, Mapping) else None
    if request is None:
        request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    state = scope.get("state") if isinstance(scope, Mapping) else None
    tenant_id = state.get("tenant_id") if isinstance(state, Mapping) else None
    return tenant_id if isinstance(tenant_id, str) and tenant_id else None


class TenantRequired(BasePermission):
    """The field needs a tenant in context; without one it fails closed.

    Use as ``permission_classes=[TenantRequired]`` or
    ``extensions=[PermissionExtension(permissions=[TenantRequired()])]``. Without a tenant
    (``get_tenant()`` is ``None``) the field resolves to a GraphQL error whose
    ``extensions.code`` is ``tenancy.tenant_missing`` (status 400), the code
    :class:`TenantMiddleware` answers a request without a tenant with.

    .. versionadded:: 0.3.0
    """

    message = "Tenant missing"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        """Whether a tenant is set for this operation."""
        return get_tenant() is not None

    def on_unauthorized(self) -> None:
        """Raise :class:`TenantMissingError` (as a GraphQL error with its code)."""
        raise _missing()


class TenantScope(SchemaExtension):
    """Run every operation inside the request's tenant, or not at all.

    Before execution (after parsing and validation) the operation fails closed when no
    tenant is set: the answer is one GraphQL error with ``extensions.code``
    ``tenancy.tenant_missing`` and no resolver runs. Otherwise the resolvers run inside
    the tenant context :class:`TenantMiddleware` set, so :class:`TenantScoped` queries
    are filtered. When that context variable is missing but ``request.state.tenant_id``
    holds a tenant (an app that resolved it elsewhere), the operation runs inside
    :func:`tenant_context` of that tenant.

    Pass the class, ``strawberry.Schema(..., extensions=[TenantScope])``: Strawberry
    builds one per operation. An instance works too (Strawberry deprecates passing
    instances): the operation is kept per task, never on the shared instance.

    .. versionadded:: 0.3.0
    """

    # Strawberry assigns ``execution_context`` on every extension it runs, then calls the
    # hooks in the same task. A context variable instead of an attribute keeps a shared
    # instance from reading another request's operation (and so its tenant).
    @property
    def execution_context(self) -> ExecutionContext:
        """The operation being executed in this task."""
        operation = _OPERATION.get()
        if operation is None:
            raise RuntimeError("TenantScope runs only inside a Strawberry operation")
        return operation

    @execution_context.setter
    def execution_context(self, value: ExecutionContext) -> None:
        _OPERATION.set(value)

    def on_execute(self) -> Iterator[None]:
        """Fail closed without a tenant; otherwise execute inside the tenant context."""
        if get_tenant() is not None:
            yield
            return
        tenant_id = _state_tenant(self.execution_context.context)
        if tenant_id is None:
            raise _missing()
        with tenant_context(tenant_id):
            yield
