"""The request's DataLoaders: clinics, pages of panels, panels by id, results by panel.

One :class:`Loaders` per request (made by the context getter, over the request's
session), so nothing is cached across requests or callers. Each batch is one SELECT
however many objects asked for it: a query clinics → panels → results runs the same
statements for a page of 5 panels as for a page of 100.

Every statement runs inside the request's clinic: panels and results are
``TenantScoped``, so spaps-tenancy's session filter adds ``tenant_id = <clinic>`` to
each of them, and PostgreSQL's row-level security stands behind it. The loaders add
what the filter cannot know: a patient sees only their own panels and results (as
``GET /v1/panels`` decides), and the clinics table (global, not tenant-scoped) is only
read for the caller's own clinic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spaps_ops.db import DatabaseUnavailableError, is_database_outage
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from htma.clinics.models import Clinic
from htma.clinics.roles import Role
from htma.deps import Caller
from htma.graphql._pagination import Position
from htma.panels.models import Panel
from htma.results.models import Result


@dataclass(frozen=True, slots=True)
class PageKey:
    """A page of a clinic's panels: ``first`` panels after ``after`` (newest first)."""

    clinic_id: str
    first: int
    after: Position | None = None


@dataclass(frozen=True, slots=True)
class PanelPage:
    """The panels of a page, and whether more follow."""

    panels: tuple[Panel, ...]
    has_next: bool


class Loaders:
    """The DataLoaders of one request.

    Args:
        session: the request's tenant-filtered session.
        caller: the request's caller (``None``: every loader answers nothing).
    """

    def __init__(self, session: AsyncSession, caller: Caller | None) -> None:
        self._session = session
        self._caller = caller
        # One AsyncSession, several loaders dispatching in the same tick: one at a time.
        self._lock = asyncio.Lock()
        self.clinics: DataLoader[str, Clinic | None] = DataLoader(load_fn=self._clinics)
        self.pages: DataLoader[PageKey, PanelPage] = DataLoader(load_fn=self._pages)
        self.panels: DataLoader[str, Panel | None] = DataLoader(load_fn=self._panels)
        self.results: DataLoader[str, Result | None] = DataLoader(load_fn=self._results)

    async def _rows(self, stmt: Select[Any]) -> list[Any]:
        """The rows of ``stmt``, one statement at a time on the request's session; an
        outage is 503 ``ops.database_unavailable``, as REST answers it (not masked)."""
        async with self._lock:
            try:
                return list(await self._session.scalars(stmt))
            except Exception as exc:
                if is_database_outage(exc):
                    raise DatabaseUnavailableError() from exc
                raise

    def _own_panels(self, stmt: Select[Panel]) -> Select[Panel]:
        caller = self._caller
        if caller is not None and caller.role == Role.PATIENT:
            return stmt.where(Panel.patient_id == caller.user_id)
        return stmt

    async def _clinics(self, keys: Sequence[str]) -> list[Clinic | None]:
        caller = self._caller
        wanted = [k for k in keys if caller is not None and k == caller.clinic]
        found: dict[str, Clinic] = {}
        if wanted:
            rows = await self._rows(select(Clinic).where(Clinic.id.in_(wanted)))
            found = {c.id: c for c in rows}
        return [found.get(k) for k in keys]

    async def _pages(self, keys: Sequence[PageKey]) -> list[PanelPage]:
        # The loader caches by key: one statement per distinct (clinic, first, after),
        # which the alias and cost limits bound, never per panel.
        pages: list[PanelPage] = []
        for key in keys:
            if self._caller is None or key.clinic_id != self._caller.clinic:
                pages.append(PanelPage((), has_next=False))
                continue
            stmt = self._own_panels(select(Panel).where(Panel.tenant_id == key.clinic_id))
            if key.after is not None:
                at, panel_id = key.after.created_at, key.after.panel_id
                stmt = stmt.where(
                    or_(Panel.created_at < at, and_(Panel.created_at == at, Panel.id > panel_id))
                )
            stmt = stmt.order_by(Panel.created_at.desc(), Panel.id).limit(key.first + 1)
            rows = await self._rows(stmt)
            pages.append(PanelPage(tuple(rows[: key.first]), has_next=len(rows) > key.first))
        return pages

    async def _panels(self, keys: Sequence[str]) -> list[Panel | None]:
        if self._caller is None:
            return [None for _ in keys]
        rows = await self._rows(self._own_panels(select(Panel).where(Panel.id.in_(keys))))
        found = {p.id: p for p in rows}
        return [found.get(k) for k in keys]

    async def _results(self, panel_ids: Sequence[str]) -> list[Result | None]:
        caller = self._caller
        if caller is None:
            return [None for _ in panel_ids]
        stmt = select(Result).where(Result.panel_id.in_(panel_ids))
        if caller.role == Role.PATIENT:
            stmt = stmt.where(Result.patient_id == caller.user_id)
        found = {r.panel_id: r for r in await self._rows(stmt)}
        return [found.get(k) for k in panel_ids]
