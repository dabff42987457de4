"""GraphQL types of the catalog: the REST representations' fields, with the same meanings.

Units are part of every field name, as in REST (``energyKj``, ``proteinG``; minerals in
mg per 100 g edible portion). ``Ingredient.id`` is the ingredient's code (``D063``), the
identifier REST puts in its paths.
"""

from __future__ import annotations

import strawberry

from ingredient.catalog.minerals import MINERALS
from ingredient.catalog.models import NUTRIENT_COLUMNS
from ingredient.catalog.models import Ingredient as IngredientRow
from ingredient.graphql._context import Context
from ingredient.graphql._search import count_matches

Info = strawberry.Info[Context, None]


@strawberry.type(description="Proximate composition per 100 g edible portion.")
class Nutrients:
    energy_kj: float | None = strawberry.field(description="energy, kJ per 100 g")
    water_g: float | None = strawberry.field(description="moisture, g per 100 g")
    protein_g: float | None = strawberry.field(description="protein, g per 100 g")
    fat_g: float | None = strawberry.field(description="total fat, g per 100 g")
    carbohydrate_g: float | None = strawberry.field(
        description="available carbohydrate, g per 100 g"
    )
    fibre_g: float | None = strawberry.field(description="total dietary fibre, g per 100 g")


@strawberry.type(description="Content of one mineral per 100 g edible portion.")
class MineralContent:
    symbol: str = strawberry.field(description="chemical symbol, e.g. Ca")
    name: str = strawberry.field(description="English name, e.g. calcium")
    amount: float | None = strawberry.field(description="mg per 100 g; null when not analysed")
    unit: str = strawberry.field(default="mg", description="always mg")
    per: str = strawberry.field(default="100 g", description="always 100 g")


# Resolvers are plain functions given to ``strawberry.field(resolver=...)``: the typed
# form (``@strawberry.field(description=...)`` on a method is untyped for mypy).


async def _nutrients(root: Ingredient, info: Info) -> Nutrients:
    composition = await info.context.compositions.load(root.row_id)
    return Nutrients(**{column: composition[column] for column in NUTRIENT_COLUMNS})


async def _minerals(root: Ingredient, info: Info) -> list[MineralContent]:
    composition = await info.context.compositions.load(root.row_id)
    return [
        MineralContent(symbol=m.symbol, name=m.name, amount=composition[m.column]) for m in MINERALS
    ]


async def _total_count(root: IngredientConnection, info: Info) -> int:
    query = root.query
    return await info.context.run(lambda session: count_matches(session, query))


@strawberry.type(description="A food of the catalog, with its composition per 100 g.")
class Ingredient:
    id: strawberry.ID = strawberry.field(description="the ingredient's code (as in REST paths)")
    code: str = strawberry.field(description="the catalog code, e.g. D063")
    name: str
    scientific_name: str | None
    food_group: str | None
    source: str = strawberry.field(description="the dataset the row comes from, e.g. ifct2017")
    local_names: str | None = strawberry.field(description="names in Indian languages")
    version: int = strawberry.field(description="changes with every edit (REST's If-Match)")
    # The database row id: the key of the per-request composition loader.
    row_id: strawberry.Private[int]

    nutrients: Nutrients = strawberry.field(
        resolver=_nutrients, description="proximate composition per 100 g edible portion"
    )
    minerals: list[MineralContent] = strawberry.field(
        resolver=_minerals, description="every recorded mineral, in mg per 100 g edible portion"
    )

    @classmethod
    def of(cls, row: IngredientRow) -> Ingredient:
        """The GraphQL object of a catalog row (its summary columns suffice: the
        composition comes from the loader)."""
        return cls(
            id=strawberry.ID(row.code),
            code=row.code,
            name=row.name,
            scientific_name=row.scientific_name,
            food_group=row.food_group,
            source=row.source,
            local_names=row.local_names,
            version=row.version,
            row_id=row.id,
        )


@strawberry.type(description="Where a page of a connection stands (Relay cursor pagination).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None = strawberry.field(description="the first edge's cursor")
    end_cursor: str | None = strawberry.field(
        description="the last edge's cursor: pass it as `after` for the next page"
    )


@strawberry.type(description="A search result: the ingredient, its cursor and relevance.")
class IngredientEdge:
    cursor: str = strawberry.field(description="opaque; pass it as `after` to read on")
    node: Ingredient
    score: float = strawberry.field(description="relevance, higher is better (REST's score)")


@strawberry.type(description="A page of search results, most relevant first.")
class IngredientConnection:
    edges: list[IngredientEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(
        resolver=_total_count, description="matches over all pages (REST's total)"
    )
    # the search text: counting runs only when ``totalCount`` is asked for
    query: strawberry.Private[str]
