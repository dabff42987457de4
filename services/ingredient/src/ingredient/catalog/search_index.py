"""Rebuilding the full-text search index from the ingredients, in batches.

The index is derived data (see :mod:`ingredient.catalog.search`): the migrations build
it and keep it in sync, but an operator rebuilds it when it may no longer match the
rows (a restore of the table alone, rows written with the triggers off, a change of
PostgreSQL's text search dictionaries across an upgrade). Rebuilding is idempotent.

* SQLite: the FTS5 index is emptied and refilled from ``ingredients``, in one
  transaction (readers keep the old index until the commit, never a partial one).
* PostgreSQL: the generated ``search_vector`` column is recomputed (``SET ... =
  DEFAULT``), its GIN index with it, one transaction per batch: every row stays
  searchable throughout.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import TextClause, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingredient.catalog.models import Ingredient

BATCH_SIZE = 100

#: called with the number of ingredients just indexed
Progress = Callable[[int], None]

# The objects migration 0001 creates (see ingredient.catalog.search).
_FTS_CLEAR = text("INSERT INTO ingredients_fts(ingredients_fts) VALUES ('delete-all')")
_FTS_FILL = text(
    "INSERT INTO ingredients_fts(rowid, name, scientific_name, food_group, local_names) "
    "SELECT id, name, scientific_name, food_group, local_names FROM ingredients "
    "WHERE id BETWEEN :first AND :last"
)
_RECOMPUTE = text(
    "UPDATE ingredients SET search_vector = DEFAULT WHERE id BETWEEN :first AND :last"
)


async def count_ingredients(engine: AsyncEngine) -> int:
    """How many ingredients the index covers (the length of a progress bar)."""
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Ingredient)) or 0)


async def rebuild_search_index(
    engine: AsyncEngine, *, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> int:
    """Rebuild the search index of every ingredient, ``batch_size`` rows at a time.

    Args:
        engine: the service's database (migrated).
        batch_size: ingredients per batch.
        progress: called after each batch with its size.

    Returns:
        The number of ingredients indexed.

    Raises:
        ValueError: ``batch_size`` is below 1, or the database is neither SQLite nor
            PostgreSQL.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dialect = engine.dialect.name
    if dialect == "sqlite":
        async with engine.begin() as conn:
            await conn.execute(_FTS_CLEAR)
            return await _batches(conn, _FTS_FILL, batch_size, progress)
    if dialect == "postgresql":
        async with engine.connect() as conn:
            return await _batches(conn, _RECOMPUTE, batch_size, progress, commit_each=True)
    raise ValueError(f"full-text search is not available on {dialect!r}")


async def _batches(
    conn: AsyncConnection,
    statement: TextClause,
    batch_size: int,
    progress: Progress | None,
    *,
    commit_each: bool = False,
) -> int:
    """Run ``statement`` on consecutive id ranges of ``batch_size`` ingredients."""
    done = after = 0  # ids start at 1
    while True:
        next_ids = select(Ingredient.id).where(Ingredient.id > after).order_by(Ingredient.id)
        ids = list(await conn.scalars(next_ids.limit(batch_size)))
        if not ids:
            return done
        await conn.execute(statement, {"first": ids[0], "last": ids[-1]})
        if commit_each:
            await conn.commit()
        done, after = done + len(ids), ids[-1]
        if progress is not None:
            progress(len(ids))
