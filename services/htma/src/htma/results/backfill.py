"""Computing the missing results of a clinic's panels, through the job's own code path
(``htma backfill ratios``): for panels whose message was lost or dead-lettered, or that
were stored before the worker ran. A panel with a result keeps it (each result records
the reference version it was computed with)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from spaps_tenancy import tenant_context
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from htma.panels.models import Panel
from htma.runtime import Runtime, process_panel


async def panels_of(
    sessions: async_sessionmaker[AsyncSession], clinic: str, *, since: date | None = None
) -> list[str]:
    """The ids of the clinic's panels (sampled on or after ``since``), oldest first."""
    query = select(Panel.id).order_by(Panel.created_at, Panel.id)
    if since is not None:
        query = query.where(Panel.sampled_on >= since)
    with tenant_context(clinic):
        async with sessions() as session:
            return list(await session.scalars(query))


async def backfill_results(
    runtime: Runtime,
    sessions: async_sessionmaker[AsyncSession],
    clinic: str,
    panel_ids: Sequence[str],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Compute the result of each panel that has none, as the job does (recommendations,
    ``result.ready`` webhook); returns how many were computed.

    Args:
        runtime: webhooks and the ingredient client.
        sessions: tenant-filtered sessions.
        clinic: the panels' clinic.
        panel_ids: the panels (:func:`panels_of`).
        progress: called with 1 after each panel.
    """
    computed = 0
    for panel_id in panel_ids:
        computed += await process_panel(runtime, sessions, panel_id=panel_id, clinic=clinic)
        if progress is not None:
            progress(1)
    return computed
