"""The schema: ``build_schema`` for the app, ``sdl`` for documents and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.extensions import SchemaExtension

from htma.graphql._permissions import AUTHENTICATED
from htma.graphql._types import Clinic, Panel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from htma.graphql._context import GraphQLContext

    Info = strawberry.Info[GraphQLContext, None]
else:
    Info = strawberry.Info


@strawberry.type
class Query:
    @strawberry.field(
        description="The clinics the caller belongs to: the one their token names.",
        extensions=[AUTHENTICATED],
    )
    async def clinics(self, info: Info) -> list[Clinic]:
        caller = info.context.require_caller()
        row = await info.context.loaders.clinics.load(caller.clinic)
        return [Clinic.of(row)] if row is not None else []

    @strawberry.field(
        description="One clinic the caller belongs to; null for any other id.",
        extensions=[AUTHENTICATED],
    )
    async def clinic(self, info: Info, id: strawberry.ID) -> Clinic | None:
        row = await info.context.loaders.clinics.load(str(id))
        return Clinic.of(row) if row is not None else None

    @strawberry.field(
        description="One panel of the caller's clinic (patients: their own); null when "
        "there is none, as `GET /v1/panels/{id}` answers 404.",
        extensions=[AUTHENTICATED],
    )
    async def panel(self, info: Info, id: strawberry.ID) -> Panel | None:
        row = await info.context.loaders.panels.load(str(id))
        return Panel.of(row) if row is not None else None


def build_schema(
    *, extensions: Sequence[SchemaExtension | type[SchemaExtension]] = ()
) -> strawberry.Schema:
    """The htma schema with ``extensions``.

    .. versionadded:: 0.7.0
    """
    return strawberry.Schema(query=Query, extensions=list(extensions))


def sdl() -> str:
    """The schema printed as SDL (no settings, no database).

    .. versionadded:: 0.7.0
    """
    return build_schema().as_str()
