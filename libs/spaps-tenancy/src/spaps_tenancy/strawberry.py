"""GraphQL (Strawberry) integration: tenant-scoped operations and fields.

Put :class:`~spaps_tenancy.TenantMiddleware` in front of Strawberry's ``GraphQLRouter``
and add :class:`TenantScope` to the schema; every resolver then runs inside the
request's tenant, so :class:`~spaps_tenancy.TenantScoped` queries are filtered::

    schema = strawberry.Schema(query=Query, extensions=[TenantScope])

    @strawberry.type
    class Query:
        @strawberry.field(permission_classes=[TenantRequired])
        def patients(self) -> list[PatientType]: ...

Refusals are GraphQL errors whose ``extensions`` hold the ``code``, ``status`` and
``title`` of the library's REST error (``tenancy.tenant_missing``, 400).

Needs the ``strawberry`` extra (``pip install 'spaps-tenancy[strawberry]'``); the rest of
the library imports without it.

.. versionadded:: 0.3.0
"""

from __future__ import annotations

from ._strawberry_scope import TenantRequired, TenantScope

__all__ = ["TenantRequired", "TenantScope"]
