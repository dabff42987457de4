"""Full-text search over the catalog: SQLite FTS5 or PostgreSQL ``tsvector``.

Both back ends index the same fields with the same weights (name strongest, then
scientific name and food group, then local names), match every word of the query as a
prefix (``"spin"`` finds spinach) and order by relevance, best first:

* SQLite: the external-content FTS5 table ``ingredients_fts`` kept in sync by triggers,
  ranked with ``bm25`` (the score reported is ``-bm25`` so that higher is better).
* PostgreSQL: the generated, GIN-indexed column ``ingredients.search_vector``, ranked
  with ``ts_rank``.

Both objects are created by the migrations only (they are dialect-specific), which is
why the model does not declare them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Select,
    Table,
    func,
    literal_column,
    select,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import TSVECTOR

from ingredient.catalog.models import Ingredient
from ingredient.errors import InvalidQueryError

MAX_QUERY_WORDS = 10
_WORD = re.compile(r"\w+", re.UNICODE)

# Dialect objects the model leaves out; kept in their own metadata so that
# create_all() and the model/migration comparison never see them.
_search_metadata = MetaData()
FTS_TABLE = Table("ingredients_fts", _search_metadata, Column("rowid", Integer, primary_key=True))
SEARCH_VECTOR_COLUMN = "search_vector"
#: Names of the search objects the migrations create and the models leave out.
SEARCH_OBJECTS = ("ingredients_fts", SEARCH_VECTOR_COLUMN, "ix_ingredients_search_vector")
#: weights of (name, scientific_name, food_group, local_names) in SQLite's bm25
BM25_WEIGHTS = (10.0, 4.0, 4.0, 1.0)


def not_a_search_object(
    _obj: object, name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic ``include_object``: leave the dialect-specific search objects (created by
    migration 0001 only) out of autogenerate's comparison with the models."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def query_words(query: str) -> list[str]:
    """Split a user query into at most :data:`MAX_QUERY_WORDS` lowercase words.

    Only word characters survive, so the result is safe to embed in FTS5 and
    ``to_tsquery`` syntax.

    Raises:
        InvalidQueryError: the query has no word.
    """
    words = _WORD.findall(query.lower())[:MAX_QUERY_WORDS]
    if not words:
        raise InvalidQueryError(f"the query {query!r} has no searchable word")
    return words


def fts5_match(words: list[str]) -> str:
    """FTS5 query: every word as a quoted prefix term, all required."""
    return " ".join(f'"{word}"*' for word in words)


def tsquery_text(words: list[str]) -> str:
    """``to_tsquery`` text: every word as a prefix term, all required."""
    return " & ".join(f"{word}:*" for word in words)


def search_statement(dialect: str, query: str) -> tuple[Select[Any], ColumnElement[float]]:
    """Return ``(statement, score)``: ingredients matching ``query`` with their score.

    The statement selects ``(Ingredient, score)`` filtered to matches, unordered and
    unpaginated; the caller orders by ``score`` descending and paginates.

    Args:
        dialect: ``"sqlite"`` or ``"postgresql"``.
        query: the user's query text.

    Raises:
        InvalidQueryError: the query has no word.
        ValueError: the dialect has no full-text search here.
    """
    words = query_words(query)
    if dialect == "sqlite":
        fts: ColumnElement[Any] = literal_column(FTS_TABLE.name)
        score = sa_cast(-func.bm25(fts, *BM25_WEIGHTS), Float).label("score")
        stmt = (
            select(Ingredient, score)
            .join(FTS_TABLE, FTS_TABLE.c.rowid == Ingredient.id)
            .where(fts.op("MATCH")(fts5_match(words)))
        )
        return stmt, score
    if dialect == "postgresql":
        vector = literal_column(f"ingredients.{SEARCH_VECTOR_COLUMN}", TSVECTOR)
        tsquery = func.to_tsquery(literal_column("'english'::regconfig"), tsquery_text(words))
        score = sa_cast(func.ts_rank(vector, tsquery), Float).label("score")
        stmt = select(Ingredient, score).where(vector.op("@@")(tsquery))
        return stmt, score
    raise ValueError(f"full-text search is not available on {dialect!r}")
