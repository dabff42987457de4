"""Computing a panel's result (the job's body) and reading results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from htma.errors import NotFoundError
from htma.panels.models import Panel
from htma.results.analysis import analyse
from htma.results.models import Result

#: Returns food recommendations for deficient minerals (never raises for outages).
Recommend = Callable[[Sequence[str]], Awaitable[dict[str, Any]]]
#: Called with the new result before the commit (e.g. publishes ``result.ready``).
OnCreated = Callable[[AsyncSession, Result], None]


async def compute_result(
    session: AsyncSession,
    panel_id: str,
    *,
    recommend: Recommend | None = None,
    on_created: OnCreated | None = None,
) -> tuple[Result, bool]:
    """Analyse a panel and store its result; idempotent (a second run changes nothing).

    Runs inside the panel's clinic (``tenant_context``). The result, the panel's new
    status and whatever ``on_created`` adds are committed together.

    Args:
        session: a tenant-filtered session.
        panel_id: the panel.
        recommend: fetches foods for the deficient minerals (stored with the result).
        on_created: called with the new result in the same transaction.

    Returns:
        ``(result, created)``: ``created`` is False when the result already existed.

    Raises:
        NotFoundError: no such panel in the current clinic.
    """
    panel = await session.scalar(select(Panel).where(Panel.id == panel_id))
    if panel is None:
        raise NotFoundError(f"no panel {panel_id!r}")
    existing = await session.scalar(select(Result).where(Result.panel_id == panel_id))
    if existing is not None:
        return existing, False
    analysis = analyse(panel.values())
    recommendations = await recommend(analysis.deficient) if recommend is not None else None
    result = Result(
        panel_id=panel.id,
        patient_id=panel.patient_id,
        reference_version=analysis.reference_version,
        analysis=analysis.as_dict(),
        deficient=list(analysis.deficient),
        recommendations=recommendations,
    )
    session.add(result)
    panel.status = "ready"
    await session.flush()
    if on_created is not None:
        on_created(session, result)
    await session.commit()
    return result, True


async def result_of(session: AsyncSession, panel: Panel) -> Result | None:
    """The result of ``panel`` (``None`` while pending)."""
    return await session.scalar(select(Result).where(Result.panel_id == panel.id))
