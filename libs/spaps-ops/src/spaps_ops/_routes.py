"""The route template of a handled request, for bounded-cardinality labels."""

from __future__ import annotations

from starlette.types import Scope

#: The label every path that matched no route shares.
UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The template of the route that handled ``scope`` (``/items/{item_id}``).

    Starlette's router stores the matched route in ``scope["route"]``; paths that matched
    none share :data:`UNMATCHED`, so attacker-chosen paths cannot grow label sets.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
