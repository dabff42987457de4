"""The GraphQL object types: clinics, panels (paginated) and their results."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from htma.graphql._loaders import PageKey
from htma.graphql._pagination import Position, page_size
from htma.graphql._permissions import CAN_LIST_PANELS, CAN_READ_RESULT

if TYPE_CHECKING:
    from htma.clinics.models import Clinic as ClinicRow
    from htma.graphql._context import GraphQLContext
    from htma.panels.models import Panel as PanelRow
    from htma.results.models import Result as ResultRow

    Info = strawberry.Info[GraphQLContext, None]
else:
    Info = strawberry.Info


# mypy strict: Strawberry types ``strawberry.field(...)`` used as a decorator as returning
# Any, hence the ``untyped-decorator`` ignores on the resolvers below.
@strawberry.enum(description="A panel's state: `PENDING` until its result is computed.")
class PanelStatus(Enum):
    PENDING = "pending"
    READY = "ready"


@strawberry.type(description="One mineral of a panel, in mg% (mg per 100 g of hair).")
class MineralValue:
    symbol: str
    value: float


@strawberry.type(description="One ratio of a panel against its reference band.")
class Ratio:
    name: str
    value: float
    ideal: float
    low: float
    high: float
    flag: str = strawberry.field(description="`low`, `normal` or `high` against the band.")
    meaning: str


@strawberry.type(description="One mineral of a panel against its reference interval.")
class MineralFinding:
    symbol: str
    value: float
    unit: str
    low: float
    high: float
    flag: str


@strawberry.type(description="The computed analysis of a panel (`GET /v1/panels/{id}/result`).")
class Result:
    panel_id: strawberry.ID
    reference_version: str
    ratios: list[Ratio]
    minerals: list[MineralFinding]
    deficient: list[str]
    computed_at: datetime

    @classmethod
    def of(cls, row: ResultRow) -> Result:
        analysis: dict[str, Any] = row.analysis
        return cls(
            panel_id=strawberry.ID(row.panel_id),
            reference_version=row.reference_version,
            ratios=[Ratio(**r) for r in analysis.get("ratios", [])],
            minerals=[MineralFinding(**m) for m in analysis.get("minerals", [])],
            deficient=list(row.deficient),
            computed_at=row.computed_at,
        )


@strawberry.type(description="A hair-tissue mineral panel (`GET /v1/panels/{id}`).")
class Panel:
    id: strawberry.ID
    patient_id: strawberry.ID
    practitioner_id: strawberry.ID
    sampled_on: date
    status: PanelStatus
    unit: str
    minerals: list[MineralValue]
    created_at: datetime
    clinic_id: strawberry.Private[str]

    @classmethod
    def of(cls, row: PanelRow) -> Panel:
        return cls(
            id=strawberry.ID(row.id),
            patient_id=strawberry.ID(row.patient_id),
            practitioner_id=strawberry.ID(row.practitioner_id),
            sampled_on=row.sampled_on,
            status=PanelStatus(row.status),
            unit="mg%",
            minerals=[MineralValue(symbol=s, value=v) for s, v in row.values().items()],
            created_at=row.created_at,
            clinic_id=row.tenant_id,
        )

    @strawberry.field(
        description="The computed ratios and flags; null while the panel is pending.",
        extensions=[CAN_READ_RESULT],
    )  # type: ignore[untyped-decorator]
    async def result(self, info: Info) -> Result | None:
        row = await info.context.loaders.results.load(str(self.id))
        return Result.of(row) if row is not None else None

    @strawberry.field(description="The clinic the panel belongs to.")  # type: ignore[untyped-decorator]
    async def clinic(self, info: Info) -> Clinic:
        row = await info.context.loaders.clinics.load(self.clinic_id)
        if row is None:  # the panel was read in this clinic: it exists
            raise LookupError(f"clinic {self.clinic_id!r} vanished")
        return Clinic.of(row)


@strawberry.type(description="A panel and its cursor.")
class PanelEdge:
    cursor: str
    node: Panel


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of panels, newest first.")
class PanelConnection:
    edges: list[PanelEdge]
    page_info: PageInfo

    @strawberry.field(description="The panels of the page (the edges' nodes).")  # type: ignore[untyped-decorator]
    def nodes(self) -> list[Panel]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="A clinic (tenant) the caller belongs to.")
class Clinic:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, row: ClinicRow) -> Clinic:
        return cls(id=strawberry.ID(row.id), name=row.name)

    @strawberry.field(
        description="The clinic's panels newest first (patients: their own), as "
        "`GET /v1/panels` lists them; `first` is 1..100.",
        extensions=[CAN_LIST_PANELS],
    )  # type: ignore[untyped-decorator]
    async def panels(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> PanelConnection:
        key = PageKey(
            str(self.id), page_size(first), Position.decode(after) if after is not None else None
        )
        page = await info.context.loaders.pages.load(key)
        edges = [
            PanelEdge(cursor=Position(p.created_at, p.id).encode(), node=Panel.of(p))
            for p in page.panels
        ]
        end = edges[-1].cursor if edges else None
        return PanelConnection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=end)
        )
