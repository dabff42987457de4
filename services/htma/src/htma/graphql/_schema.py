"""The schema: ``build_schema`` for the app, ``sdl`` for documents and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from spaps_ops.strawberry import ExtensionFactory, secure_extensions
from spaps_tenancy.strawberry import TenantScope

from htma.graphql._permissions import MEMBER
from htma.graphql._types import Clinic, Panel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from htma.graphql._context import GraphQLContext

    Info = strawberry.Info[GraphQLContext, None]
else:
    Info = strawberry.Info

#: The deepest selection an operation may make: clinics → panels → edges → node →
#: result → ratios → name is 7; the back reference ``Panel.clinic`` could go on forever.
MAX_DEPTH = 8


# mypy strict: Strawberry types ``strawberry.field(...)`` used as a decorator as returning
# Any, hence the ``untyped-decorator`` ignores on the resolvers below.
@strawberry.type
class Query:
    @strawberry.field(
        description="The clinics the caller belongs to: the one their token names.",
        extensions=[MEMBER],
    )  # type: ignore[untyped-decorator]
    async def clinics(self, info: Info) -> list[Clinic]:
        caller = info.context.require_caller()
        row = await info.context.loaders.clinics.load(caller.clinic)
        return [Clinic.of(row)] if row is not None else []

    @strawberry.field(
        description="One clinic the caller belongs to; null for any other id.",
        extensions=[MEMBER],
    )  # type: ignore[untyped-decorator]
    async def clinic(self, info: Info, id: strawberry.ID) -> Clinic | None:
        info.context.require_caller()
        row = await info.context.loaders.clinics.load(str(id))
        return Clinic.of(row) if row is not None else None

    @strawberry.field(
        description="One panel of the caller's clinic (patients: their own); null when "
        "there is none, as `GET /v1/panels/{id}` answers 404.",
        extensions=[MEMBER],
    )  # type: ignore[untyped-decorator]
    async def panel(self, info: Info, id: strawberry.ID) -> Panel | None:
        info.context.require_caller()
        row = await info.context.loaders.panels.load(str(id))
        return Panel.of(row) if row is not None else None


def build_schema(
    *, production: bool = False, extensions: Sequence[ExtensionFactory] = ()
) -> strawberry.Schema:
    """The htma schema, guarded: spaps-ops' ``secure_extensions`` (depth, aliases, tokens,
    errors as problem codes; no introspection in production), spaps-tenancy's
    ``TenantScope`` (no operation runs outside the request's clinic), then ``extensions``
    (the app adds the cost limit).

    Args:
        production: refuse introspection (``settings.is_production``).
        extensions: more schema extensions (classes or factories), run after these.

    .. versionadded:: 0.7.0
    """
    return strawberry.Schema(
        query=Query,
        extensions=[
            *secure_extensions(production=production, max_depth=MAX_DEPTH),
            TenantScope,
            *extensions,
        ],
    )


def sdl() -> str:
    """The schema printed as SDL (no settings, no database).

    .. versionadded:: 0.7.0
    """
    return build_schema().as_str()
