"""Catalog queries: get, list, full-text search and "richest in mineral X"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ingredient.catalog.minerals import Mineral
from ingredient.catalog.models import Ingredient
from ingredient.catalog.search import search_statement
from ingredient.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results.

    Args:
        items: the ingredients on this page, each with its score (``None`` when not searching).
        total: matches over all pages.
        limit: page size asked for.
        offset: index of the first item.
    """

    items: Sequence[tuple[Ingredient, float | None]]
    total: int
    limit: int
    offset: int


async def get_ingredient(session: AsyncSession, code: str) -> Ingredient:
    """Return the ingredient with ``code``.

    Raises:
        NotFoundError: no such ingredient.
    """
    # No stored code holds NUL, and PostgreSQL refuses the character in a parameter.
    ingredient = None
    if "\x00" not in code:
        ingredient = await session.scalar(select(Ingredient).where(Ingredient.code == code))
    if ingredient is None:
        raise NotFoundError(f"no ingredient has the code {code!r}")
    return ingredient


async def list_ingredients(
    session: AsyncSession, *, limit: int, offset: int, food_group: str | None = None
) -> Page:
    """Ingredients ordered by name (then code), optionally in one food group."""
    stmt = select(Ingredient)
    if food_group is not None and "\x00" in food_group:
        return Page([], 0, limit, offset)  # no group is named so; PostgreSQL refuses NUL
    if food_group is not None:
        stmt = stmt.where(Ingredient.food_group == food_group)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(
        stmt.order_by(Ingredient.name, Ingredient.code).limit(limit).offset(offset)
    )
    return Page([(row, None) for row in rows], total or 0, limit, offset)


async def search_ingredients(session: AsyncSession, query: str, *, limit: int, offset: int) -> Page:
    """Full-text search, most relevant first (ties by name, then code).

    Raises:
        InvalidQueryError: the query has no searchable word.
    """
    dialect = session.get_bind().dialect.name
    stmt, score = search_statement(dialect, query)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    result = await session.execute(
        stmt.order_by(score.desc(), Ingredient.name, Ingredient.code).limit(limit).offset(offset)
    )
    items = [(ingredient, float(value)) for ingredient, value in result]
    return Page(items, total or 0, limit, offset)


async def richest_in(
    session: AsyncSession, mineral: Mineral, *, limit: int, food_group: str | None = None
) -> list[Ingredient]:
    """Ingredients with the most ``mineral`` per 100 g, richest first (unanalysed ones left out)."""
    column = getattr(Ingredient, mineral.column)
    stmt = select(Ingredient).where(column.is_not(None), column > 0)
    if food_group is not None:
        stmt = stmt.where(Ingredient.food_group == food_group)
    rows = await session.scalars(stmt.order_by(column.desc(), Ingredient.code).limit(limit))
    return list(rows)
