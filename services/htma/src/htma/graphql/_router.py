"""The ``/graphql`` route: the schema with its guards, behind htma's request layers."""

from __future__ import annotations

from fastapi import APIRouter
from spaps_ratelimit import RateLimiter
from spaps_ops.strawberry import graphql_router

from htma.graphql._context import graphql_context
from htma.graphql._schema import build_schema
from htma.settings import Settings


def graphql_api(settings: Settings, *, limiter: RateLimiter) -> APIRouter:
    """The router to mount at ``/graphql`` (``include_in_schema=False``: the OpenAPI
    document describes the REST API only).

    Args:
        settings: the app's settings (production: no GraphiQL, no introspection).
        limiter: the REST API's limiter; an operation spends its cost from the clinic's
            plan budget.

    .. versionadded:: 0.7.0
    """
    production = settings.is_production
    schema = build_schema(production=production)
    return graphql_router(schema, production=production, context_getter=graphql_context)
