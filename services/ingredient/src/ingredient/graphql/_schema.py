"""The catalog's GraphQL schema: full-text ``search`` (cursor pages) and ``ingredient``.

Both fields need an authenticated caller, as the REST read routes do (an API key or an
htma token, found by the app's ``AuthenticationMiddleware``): an anonymous request gets
``auth.unauthenticated``.
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from spaps_auth.strawberry import IsAuthenticated
from spaps_ops.strawberry import ExtensionFactory

from ingredient.errors import InvalidQueryError
from ingredient.graphql._cursor import decode_cursor, encode_cursor
from ingredient.graphql._search import search_page
from ingredient.graphql._types import (
    Info,
    Ingredient,
    IngredientConnection,
    IngredientEdge,
    PageInfo,
)

#: As REST's ``q``: longer queries are refused.
MAX_QUERY_LENGTH = 200
DEFAULT_PAGE_SIZE = 20
#: As REST's ``{code}`` (and the column).
MAX_CODE_LENGTH = 32


async def _search(
    info: Info, query: str, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
) -> IngredientConnection:
    maximum = info.context.settings.page_size_max
    size = DEFAULT_PAGE_SIZE if first is None else first
    # REST's limits: its page size maximum, its query length, its offset range
    if not 1 <= size <= maximum:
        raise InvalidQueryError(f"first must be between 1 and {maximum}")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidQueryError(f"query must be at most {MAX_QUERY_LENGTH} characters")
    offset = 0 if after is None else decode_cursor(query, after) + 1
    # one row more than asked tells whether a next page exists, without counting
    rows = await info.context.run(
        lambda session: search_page(session, query, limit=size + 1, offset=offset)
    )
    edges = [
        IngredientEdge(
            cursor=encode_cursor(query, offset + i), node=Ingredient.of(row), score=score
        )
        for i, (row, score) in enumerate(rows[:size])
    ]
    page = PageInfo(
        has_next_page=len(rows) > size,
        has_previous_page=offset > 0,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return IngredientConnection(edges=edges, page_info=page, query=query)


async def _ingredient(info: Info, id: strawberry.ID) -> Ingredient | None:
    code = str(id)
    # No code is longer than REST's path allows, nor holds NUL (which PostgreSQL refuses
    # in text): such an id names no ingredient, and is not sent to the database.
    if len(code) > MAX_CODE_LENGTH or "\x00" in code:
        return None
    row = await info.context.ingredients.load(code)
    return None if row is None else Ingredient.of(row)


@strawberry.type(description="Reading the ingredient catalog (an API key or an htma token).")
class Query:
    search: IngredientConnection = strawberry.field(
        resolver=_search,
        permission_classes=[IsAuthenticated],
        description="Full-text search, most relevant first; every word matches as a prefix "
        "(REST: GET /v1/ingredients?q=). Pages: `first` (at most the page size maximum, "
        "100 unless configured), then `after` the previous page's `endCursor`, with the same "
        "`query` (a cursor of another query is refused).",
    )
    ingredient: Ingredient | None = strawberry.field(
        resolver=_ingredient,
        permission_classes=[IsAuthenticated],
        description="One ingredient by its code, with its composition; null when no "
        "ingredient has it (REST: GET /v1/ingredients/{code}).",
    )


def build_schema(*, extensions: Sequence[ExtensionFactory] = ()) -> strawberry.Schema:
    """The catalog's schema, with ``extensions`` (security, errors, cost) around it.

    Args:
        extensions: Strawberry schema extensions (classes or factories); the app
            passes spaps-ops' secure set and spaps-ratelimit's cost limit
            (:func:`ingredient.graphql.mount_graphql`).

    .. versionadded:: 0.7.0
    """
    return strawberry.Schema(query=Query, extensions=extensions)


def sdl() -> str:
    """The schema in SDL, as committed in ``api/ingredient/schema.graphql`` (needs no
    settings and no database).

    .. versionadded:: 0.7.0
    """
    return build_schema().as_str()
