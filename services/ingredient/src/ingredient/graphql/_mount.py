"""``/graphql`` on the ingredient app: the schema behind spaps-ops' router, with the
secure extensions and the plan budget of the REST read routes.

* spaps-ops' :func:`~spaps_ops.strawberry.secure_extensions` bound the operation (depth,
  aliases, tokens; no introspection in production) and give every error a problem code;
* spaps-ratelimit's :class:`~spaps_ratelimit.strawberry.CostLimit` charges each operation
  to the caller's plan budget: the limiter, key (:func:`ingredient.access.plan_key`),
  limits and counters (``plan``) of the REST read routes, so both APIs spend one budget.
  A unit is one REST request: each ``search`` or ``ingredient`` field costs 1, whatever
  it selects, since a page's nested compositions are one statement for the whole page.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from spaps_ops.strawberry import graphql_router, secure_extensions
from spaps_ratelimit import Limit, RateLimiter
from spaps_ratelimit.strawberry import CostLimit

from ingredient.access import DEFAULT_PLAN, plan_key
from ingredient.graphql._context import get_context
from ingredient.graphql._schema import build_schema
from ingredient.settings import Settings

PATH = "/graphql"
#: Units per root field (a REST request's worth); nested fields are free.
FIELD_COSTS = {"Query.search": 1, "Query.ingredient": 1}
#: The most one operation may cost: at most this many root fields.
MAX_COST = 15
#: No valid selection of this schema is deeper than 5; a little room for __typename.
MAX_DEPTH = 6
#: The counter namespace of the REST read routes' plan limit (``access.plan_limit``).
PLAN_NAMESPACE = "plan"


def plan_limits(plans: Mapping[str, str]) -> dict[str, list[Limit]]:
    """Each plan's limits (``settings.plans`` parsed), as ``access.plan_limit`` reads them."""
    return {name: [Limit.parse(text)] for name, text in plans.items()}


def mount_graphql(app: FastAPI, settings: Settings, limiter: RateLimiter) -> None:
    """Serve the catalog's schema at ``/graphql``, left out of the OpenAPI document.

    Args:
        app: the ingredient app (its authentication middleware finds the caller).
        settings: production (no introspection, no GraphiQL) and the plans.
        limiter: the REST read routes' limiter.

    .. versionadded:: 0.7.0
    """
    parsed = plan_limits(settings.plans)
    default = parsed.get(DEFAULT_PLAN) or next(iter(parsed.values()))

    def limits_of(key: str) -> list[Limit]:
        # unknown plans get free's limit, as on the REST routes
        return parsed.get(key.split(":", 1)[0], default)

    cost = CostLimit(
        limiter=limiter,
        key=plan_key,
        limits=limits_of,
        max_cost=MAX_COST,
        field_costs=FIELD_COSTS,
        default_field_cost=0,
        namespace=PLAN_NAMESPACE,
    )
    production = settings.is_production
    schema = build_schema(
        extensions=[*secure_extensions(production=production, max_depth=MAX_DEPTH), cost]
    )
    router = graphql_router(schema, production=production, context_getter=get_context, path=PATH)
    # The route is PATH itself (not a prefix): the access log and metrics label it so.
    app.include_router(router, include_in_schema=False)
