"""The per-request GraphQL context: the session, the settings and the DataLoaders.

One :class:`Context` per request, built by :func:`get_context` (a FastAPI dependency of
the GraphQL router), so the loaders' caches never outlive the request. Resolvers of one
operation may run concurrently (sibling fields, aliases) while an ``AsyncSession``
allows one statement at a time: every query goes through :meth:`Context.run`, which
serialises them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from ingredient.catalog.minerals import MINERALS
from ingredient.catalog.models import NUTRIENT_COLUMNS
from ingredient.catalog.models import Ingredient as IngredientRow
from ingredient.deps import ReadSessionDep, SettingsDep
from ingredient.settings import Settings

#: The composition columns a nested ``nutrients`` / ``minerals`` selection needs.
COMPOSITION_COLUMNS: tuple[str, ...] = (*NUTRIENT_COLUMNS, *(m.column for m in MINERALS))

_T = TypeVar("_T")
Composition = Mapping[str, Any]


class Context(BaseContext):
    """What resolvers find in ``info.context``.

    Attributes:
        request: the HTTP request (read by the authentication and cost extensions).
        response: the response being built (its status and headers).
        session: the request's database session (a read session).
        settings: the app's settings (page size maximum).
        compositions: row id -> nutrient and mineral columns, one statement per batch.
        ingredients: code -> catalog row (or ``None``), one statement per batch.
    """

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        super().__init__()  # Strawberry's router sets request and response
        self.session = session
        self.settings = settings
        self._lock = asyncio.Lock()
        self.compositions: DataLoader[int, Composition] = DataLoader(self._load_compositions)
        self.ingredients: DataLoader[str, IngredientRow | None] = DataLoader(self._load_ingredients)

    async def run(self, query: Callable[[AsyncSession], Awaitable[_T]]) -> _T:
        """Run ``query(session)`` alone on the session (one statement at a time)."""
        async with self._lock:
            return await query(self.session)

    def prime(self, rows: Sequence[IngredientRow]) -> None:
        """Remember the composition of fully loaded rows (no second statement for them)."""
        self.compositions.prime_many(
            {
                row.id: {column: getattr(row, column) for column in COMPOSITION_COLUMNS}
                for row in rows
            }
        )

    async def _load_compositions(self, ids: list[int]) -> list[Composition]:
        columns = [getattr(IngredientRow, column) for column in COMPOSITION_COLUMNS]
        stmt = select(IngredientRow.id, *columns).where(IngredientRow.id.in_(ids))

        async def query(session: AsyncSession) -> list[Composition]:
            result = await session.execute(stmt)
            found: dict[int, Composition] = {row["id"]: dict(row) for row in result.mappings()}
            # a row deleted since the page was read: its composition is unknown
            empty: Composition = dict.fromkeys(COMPOSITION_COLUMNS)
            return [found.get(i, empty) for i in ids]

        return await self.run(query)

    async def _load_ingredients(self, codes: list[str]) -> list[IngredientRow | None]:
        stmt = select(IngredientRow).where(IngredientRow.code.in_(codes))

        async def query(session: AsyncSession) -> list[IngredientRow]:
            return list(await session.scalars(stmt))

        rows = await self.run(query)
        self.prime(rows)
        by_code = {row.code: row for row in rows}
        return [by_code.get(code) for code in codes]


async def get_context(session: ReadSessionDep, settings: SettingsDep) -> Context:
    """The GraphQL router's ``context_getter``: a fresh :class:`Context` per request, on a
    read session (the schema has no mutations)."""
    return Context(session, settings)
