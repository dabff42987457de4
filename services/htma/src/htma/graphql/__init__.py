"""htma's GraphQL API at ``/graphql``: a caller's clinics → panels → results.

The route sits behind the same request layers as the REST API: authentication (an
anonymous request is refused 401 as on any REST route), the tenant (the clinic named by
the token's ``clinic`` claim; a clinic is a tenant) and the clinic's plan budget, which
an operation spends its static cost from (spaps-ratelimit's ``CostLimit``). The schema
adds spaps-ops' limits and error codes and spaps-tenancy's ``TenantScope``: no resolver
runs outside the request's clinic, so the ``TenantScoped`` session filter (and
PostgreSQL's row-level security) isolates clinics exactly as for REST. A caller belongs
to one clinic: ``clinics`` lists it, ``clinic(id)`` answers null for any other, and
nothing ever enters another clinic's tenant context.

Permissions mirror the REST routes (spaps-auth's permission classes): staff list the
clinic's panels with ``panels:read``, patients their own; results need ``results:read``
or ``results:read:own`` on one's own panel. Reads go through per-request DataLoaders, so
an operation runs a bounded number of statements whatever the page size.

.. versionadded:: 0.7.0
"""

from htma.graphql._context import GraphQLContext, graphql_context
from htma.graphql._router import graphql_api
from htma.graphql._schema import build_schema, sdl

__all__ = ["GraphQLContext", "build_schema", "graphql_api", "graphql_context", "sdl"]
