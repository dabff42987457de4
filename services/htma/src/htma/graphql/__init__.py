"""htma's GraphQL API at ``/graphql``: a caller's clinics → panels → results.

.. versionadded:: 0.7.0
"""

from htma.graphql._context import GraphQLContext, graphql_context
from htma.graphql._router import graphql_api
from htma.graphql._schema import build_schema, sdl

__all__ = ["GraphQLContext", "build_schema", "graphql_api", "graphql_context", "sdl"]
