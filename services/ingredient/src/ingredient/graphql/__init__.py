"""The catalog over GraphQL at ``/graphql``: full-text ``search`` with cursor pages and
``ingredient`` by code, with nested nutrients and minerals; the REST read API's data,
callers and plan limits.

.. versionadded:: 0.7.0
"""

from ingredient.graphql._mount import mount_graphql
from ingredient.graphql._schema import build_schema, sdl

__all__ = ["build_schema", "mount_graphql", "sdl"]
