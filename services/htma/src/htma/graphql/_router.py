"""The ``/graphql`` route: the schema with its guards, behind htma's request layers.

The app's middleware runs first, as for every REST route: authentication (an anonymous
request is refused 401 before Strawberry sees it), the tenant (the token's clinic), and
the operation then spends its cost from the clinic's plan budget, the very budget
``htma.limits.clinic_limit`` charges a REST request one unit of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import APIRouter
from spaps_ops.strawberry import graphql_router
from spaps_ratelimit import Limit, RateLimiter
from spaps_ratelimit.strawberry import CostLimit

from htma.graphql._context import graphql_context
from htma.graphql._schema import build_schema
from htma.limits import plan_clinic_key
from htma.settings import Settings

#: What an operation costs, in REST requests: each field that reads the database (a
#: page of panels, a panel's result...) costs one; its selections are multiplied by the
#: page size. Scalars and nested objects already loaded cost nothing.
FIELD_COSTS = {
    "Query.clinics": 1, "Query.clinic": 1, "Query.panel": 1,
    "Clinic.panels": 1, "Panel.result": 1, "Panel.clinic": 1,
}  # fmt: skip
#: The most one operation may cost: a full page (100) of panels with results and clinics.
MAX_COST = 250
#: The budget REST's per-clinic limit charges (``clinic_limit``'s name): shared.
CLINIC_BUDGET = "clinic"
#: ``Clinic.panels``' default page size, priced when ``first`` is not given.
DEFAULT_PAGE = 20


def plan_limits(plans: Mapping[str, str]) -> dict[str, list[Limit]]:
    """``plan -> limits`` of ``settings.plans`` (unknown plans get ``standard``'s)."""
    return {name: [Limit.parse(text)] for name, text in plans.items()}


def graphql_api(settings: Settings, *, limiter: RateLimiter) -> APIRouter:
    """The router to mount at ``/graphql`` (``include_in_schema=False``: the OpenAPI
    document describes the REST API only).

    Args:
        settings: the app's settings (production: no GraphiQL, no introspection).
        limiter: the REST API's limiter; an operation spends its cost from the clinic's
            plan budget, keyed ``<plan>:<clinic>`` as REST's.

    .. versionadded:: 0.7.0
    """
    by_plan = plan_limits(settings.plans)
    standard = by_plan.get("standard") or next(iter(by_plan.values()))

    def limits(key: str) -> Sequence[Limit]:
        return by_plan.get(key.split(":", 1)[0], standard)

    cost_limit = CostLimit(
        limiter=limiter, key=plan_clinic_key, limits=limits, max_cost=MAX_COST,
        field_costs=FIELD_COSTS, default_field_cost=0, namespace=CLINIC_BUDGET,
        default_list_size=DEFAULT_PAGE,
    )  # fmt: skip
    production = settings.is_production
    schema = build_schema(production=production, extensions=[cost_limit])
    return graphql_router(schema, production=production, context_getter=graphql_context)
