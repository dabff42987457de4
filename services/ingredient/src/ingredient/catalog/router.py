"""Read API of the catalog: list, search, detail, minerals, richest sources, attribution."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from spaps_auth import PermissionDeniedError
from spaps_ops import problem_responses
from spaps_ops.db import SessionDep

from ingredient.access import EditorDep
from ingredient.catalog import service
from ingredient.catalog.editing import update_ingredient
from ingredient.catalog.minerals import MINERALS, get_mineral
from ingredient.catalog.schemas import (
    Attribution,
    IngredientDetail,
    IngredientPage,
    IngredientSummary,
    MineralInfo,
    RichestList,
    RichSource,
    SearchHit,
)
from ingredient.catalog.seed import ATTRIBUTION, licence_text
from ingredient.deps import ReadSessionDep, SettingsDep, get_webhooks
from ingredient.errors import (
    InvalidQueryError,
    NotFoundError,
    UnknownMineralError,
    VersionMismatchError,
)

#: Read routes: the app adds authentication and the per-plan rate limit.
router = APIRouter(prefix="/v1", tags=["catalog"])
#: Open to everyone: the data's attribution and licence.
public_router = APIRouter(prefix="/v1", tags=["catalog"])
#: Editors only (htma tokens with an editor role).
editor_router = APIRouter(prefix="/v1", tags=["editing"])


@router.get(
    "/ingredients",
    response_model=IngredientPage,
    summary="List or search ingredients",
    responses=problem_responses(InvalidQueryError, descriptions={400: "Invalid query or page"}),
)
async def list_or_search(  # noqa: PLR0917 -- FastAPI route: one parameter per query field
    session: ReadSessionDep,
    settings: SettingsDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="full-text query; every word matches as a prefix",
            examples=["spinach"],
        ),
    ] = None,
    food_group: Annotated[
        str | None, Query(max_length=100, examples=["Green Leafy Vegetables"])
    ] = None,
    limit: Annotated[int, Query(ge=1, description="page size", examples=[20])] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, examples=[0])] = 0,
) -> IngredientPage:
    """Search by relevance when ``q`` is given, otherwise list alphabetically."""
    if limit > settings.page_size_max:
        raise InvalidQueryError(f"limit must be at most {settings.page_size_max}")
    if q is not None:
        page = await service.search_ingredients(session, q, limit=limit, offset=offset)
    else:
        page = await service.list_ingredients(
            session, limit=limit, offset=offset, food_group=food_group
        )
    items = [
        SearchHit(**IngredientSummary.of(ingredient).model_dump(), score=score)
        for ingredient, score in page.items
    ]
    return IngredientPage(items=items, total=page.total, limit=page.limit, offset=page.offset)


@router.get(
    "/ingredients/{code}",
    response_model=IngredientDetail,
    summary="One ingredient with its composition",
    responses=problem_responses(NotFoundError, descriptions={404: "No such ingredient"}),
)
async def get_ingredient(
    session: ReadSessionDep,
    code: Annotated[str, Path(max_length=32, examples=["D063"])],
) -> IngredientDetail:
    """Nutrients and minerals per 100 g edible portion, units spelt out."""
    return IngredientDetail.of(await service.get_ingredient(session, code))


@router.get("/minerals", response_model=list[MineralInfo], summary="Minerals the catalog records")
async def list_minerals() -> list[MineralInfo]:
    """Every mineral with its unit (mg per 100 g)."""
    return [MineralInfo.of(m) for m in MINERALS]


@router.get(
    "/minerals/{mineral}/richest",
    response_model=RichestList,
    summary="Foods richest in a mineral",
    responses=problem_responses(
        InvalidQueryError,
        UnknownMineralError,
        descriptions={400: "limit above the page-size maximum", 404: "Unknown mineral"},
    ),
)
async def richest(
    session: ReadSessionDep,
    settings: SettingsDep,
    mineral: Annotated[
        str, Path(max_length=20, description="symbol or English name", examples=["Zn"])
    ],
    limit: Annotated[int, Query(ge=1, examples=[10])] = 10,
    food_group: Annotated[str | None, Query(max_length=100, examples=["Grain Legumes"])] = None,
) -> RichestList:
    """Ingredients with the highest content per 100 g, richest first."""
    found = get_mineral(mineral)
    if limit > settings.page_size_max:
        raise InvalidQueryError(f"limit must be at most {settings.page_size_max}")
    rows = await service.richest_in(session, found, limit=limit, food_group=food_group)
    return RichestList(
        mineral=MineralInfo.of(found),
        items=[
            RichSource(**IngredientSummary.of(row).model_dump(), amount=getattr(row, found.column))
            for row in rows
        ],
    )


@public_router.get(
    "/attribution", response_model=Attribution, summary="Source and licence of the data"
)
async def attribution() -> Attribution:
    """The seed catalog's source, its licence and what was changed."""
    return Attribution(**ATTRIBUTION, licence_text=licence_text())


class IngredientPatch(BaseModel):
    """Fields to change; omitted fields stay as they are. Amounts per 100 g."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,  # NaN, Infinity and 1e999 (read as infinity) are refused
        json_schema_extra={
            "examples": [{"food_group": "Green Leafy Vegetables", "protein_g": 2.2,
                          "minerals": {"Mg": 79.0}}]
        },
    )  # fmt: skip

    name: str | None = Field(default=None, min_length=1, max_length=200)
    scientific_name: str | None = Field(default=None, max_length=200)
    local_names: str | None = Field(default=None, max_length=5000)
    food_group: str | None = Field(default=None, max_length=100)
    energy_kj: float | None = Field(default=None, ge=0, le=10_000)
    water_g: float | None = Field(default=None, ge=0, le=100)
    protein_g: float | None = Field(default=None, ge=0, le=100)
    fat_g: float | None = Field(default=None, ge=0, le=100)
    carbohydrate_g: float | None = Field(default=None, ge=0, le=100)
    fibre_g: float | None = Field(default=None, ge=0, le=100)
    minerals: dict[str, float | None] = Field(
        default_factory=dict, description="symbol -> mg per 100 g (null clears)"
    )


@editor_router.patch(
    "/ingredients/{code}",
    response_model=IngredientDetail,
    summary="Update an ingredient (catalog editors)",
    operation_id="update_ingredient",
    responses=problem_responses(
        PermissionDeniedError,
        NotFoundError,
        UnknownMineralError,
        VersionMismatchError,
        descriptions={
            403: "Not a catalog editor (a platform permission)",
            404: "No such ingredient or mineral",
            412: "If-Match does not match the current version",
        },
    ),
)
async def update(  # noqa: PLR0917 -- FastAPI route: one parameter per input
    code: Annotated[str, Path(max_length=32, examples=["D063"])],
    body: IngredientPatch,
    session: SessionDep,
    editor: EditorDep,
    request: Request,
    if_match: Annotated[
        str | None,
        Header(description="the version read", examples=["1"], pattern=r'^"?[0-9]{1,18}"?$'),
    ] = None,
) -> IngredientDetail:
    """Records the edit (who, when, before, after; an operator can revert it) and
    publishes ``ingredient.updated.v1`` to subscribers when something changed."""
    # the pattern guarantees digits: anything else is a 422 naming the header
    expected = None if if_match is None else int(if_match.strip('"'))
    fields = body.model_dump(exclude_unset=True, exclude={"minerals"})
    ingredient, _changed, _edit = await update_ingredient(
        session, get_webhooks(request).webhooks, code, fields=fields, minerals=body.minerals,
        expected_version=expected, actor=f"token:{editor.subject}",
    )  # fmt: skip
    return IngredientDetail.of(ingredient)
