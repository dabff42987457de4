"""Submitting and reading panels (run inside the caller's clinic: tenant-filtered)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from htma.accounts.models import User
from htma.clinics.roles import Role
from htma.deps import Caller
from htma.errors import InvalidPanelError, NotFoundError
from htma.panels.models import PANEL_COLUMNS, Panel
from htma.results.analysis import validate_panel


async def submit_panel(
    session: AsyncSession,
    caller: Caller,
    *,
    patient_id: str,
    sampled_on: date,
    minerals: Mapping[str, float],
) -> Panel:
    """Store a pending panel for a patient of the caller's clinic (not committed).

    Raises:
        NotFoundError: no such patient in the clinic.
        InvalidPanelError: minerals missing, unknown or out of bounds.
    """
    patient = await session.get(User, patient_id)
    if patient is None or patient.clinic_id != caller.clinic or patient.role != Role.PATIENT:
        raise NotFoundError(f"no patient {patient_id!r} in this clinic")
    try:
        values = validate_panel(minerals)
    except ValueError as exc:
        raise InvalidPanelError(str(exc)) from exc
    panel = Panel(
        patient_id=patient_id,
        practitioner_id=caller.user_id,
        sampled_on=sampled_on,
        status="pending",
        **{PANEL_COLUMNS[symbol]: value for symbol, value in values.items()},
    )
    session.add(panel)
    await session.flush()
    return panel


async def get_panel(session: AsyncSession, caller: Caller, panel_id: str) -> Panel:
    """A panel the caller may see: any in the clinic for staff, their own for patients.

    Raises:
        NotFoundError: no such panel visible to the caller.
    """
    stmt = select(Panel).where(Panel.id == panel_id)
    if caller.role == Role.PATIENT:
        stmt = stmt.where(Panel.patient_id == caller.user_id)
    panel = await session.scalar(stmt)
    if panel is None:
        raise NotFoundError(f"no panel {panel_id!r}")
    return panel


async def list_panels(
    session: AsyncSession, caller: Caller, *, patient_id: str | None, limit: int, offset: int
) -> list[Panel]:
    """Panels newest first; patients see only their own."""
    stmt = select(Panel)
    if caller.role == Role.PATIENT:
        stmt = stmt.where(Panel.patient_id == caller.user_id)
    elif patient_id is not None:
        stmt = stmt.where(Panel.patient_id == patient_id)
    stmt = stmt.order_by(Panel.created_at.desc(), Panel.id).limit(limit).offset(offset)
    return list(await session.scalars(stmt))
