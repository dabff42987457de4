"""The search page: the REST search's statement and order, the summary columns only.

:func:`ingredient.catalog.search.search_statement` gives the matches and their score (as
for ``GET /v1/ingredients?q=``); the page orders them the way
:func:`ingredient.catalog.service.search_ingredients` does (score, then name, then code)
and loads the summary columns only: a nested ``nutrients`` or ``minerals`` selection is
one more statement for the whole page (the composition loader), none without one.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from ingredient.catalog.models import Ingredient as IngredientRow
from ingredient.catalog.search import search_statement

_SUMMARY = (
    IngredientRow.id,
    IngredientRow.code,
    IngredientRow.name,
    IngredientRow.scientific_name,
    IngredientRow.food_group,
    IngredientRow.source,
    IngredientRow.local_names,
    IngredientRow.version,
)


async def count_matches(session: AsyncSession, query: str) -> int:
    """How many ingredients match ``query`` (REST's ``total``).

    Raises:
        InvalidQueryError: the query has no searchable word.
    """
    stmt, _score = search_statement(session.get_bind().dialect.name, query)
    return await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


async def search_page(
    session: AsyncSession, query: str, *, limit: int, offset: int
) -> Sequence[tuple[IngredientRow, float]]:
    """``limit`` matches from ``offset``, most relevant first, with their scores.

    Raises:
        InvalidQueryError: the query has no searchable word.
    """
    stmt, score = search_statement(session.get_bind().dialect.name, query)
    page = (
        stmt.options(load_only(*_SUMMARY))
        .order_by(score.desc(), IngredientRow.name, IngredientRow.code)
        .limit(limit)
        .offset(offset)
    )
    return [(row, float(value)) for row, value in await session.execute(page)]
