"""Panels: practitioners submit them; the result is computed by a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from spaps_auth import PermissionDeniedError
from spaps_ops import openapi_problem

from htma.deps import CallerDep, SessionDep, get_services
from htma.errors import InvalidPanelError, NotFoundError, ResultPendingError
from htma.panels import service
from htma.panels.schemas import PanelIn, PanelOut, ResultOut
from htma.results.service import result_of

router = APIRouter(prefix="/v1/panels", tags=["panels"])


@router.post(
    "",
    response_model=PanelOut,
    status_code=202,
    summary="Submit a mineral panel for a patient",
    operation_id="submit_panel",
    responses={
        403: openapi_problem("Only practitioners", PermissionDeniedError),
        404: openapi_problem("No such patient in the clinic", NotFoundError),
        422: openapi_problem("Invalid panel", InvalidPanelError),
    },
)
async def submit(
    body: PanelIn, caller: CallerDep, session: SessionDep, request: Request
) -> PanelOut:
    """Accepted for analysis: poll ``GET /v1/panels/{id}/result`` or wait for ``result.ready``."""
    caller.require("panels:write")
    services = get_services(request)
    panel = await service.submit_panel(
        session, caller, patient_id=body.patient_id, sampled_on=body.sampled_on,
        minerals=body.minerals,
    )  # fmt: skip
    await services.submitted(session, panel)
    await session.commit()
    await services.after_commit(panel)
    return PanelOut.of(panel)


@router.get("", response_model=list[PanelOut], summary="Panels visible to the caller")
async def list_panels(
    caller: CallerDep,
    session: SessionDep,
    patient_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[PanelOut]:
    """Staff see the clinic's panels (optionally one patient's); patients their own."""
    if caller.role != "patient":
        caller.require("panels:read")
    panels = await service.list_panels(
        session, caller, patient_id=patient_id, limit=limit, offset=offset
    )
    return [PanelOut.of(p) for p in panels]


@router.get(
    "/{panel_id}",
    response_model=PanelOut,
    summary="One panel",
    responses={404: openapi_problem("No such panel", NotFoundError)},
)
async def get_panel(panel_id: str, caller: CallerDep, session: SessionDep) -> PanelOut:
    """A panel of the clinic (patients: their own)."""
    return PanelOut.of(await service.get_panel(session, caller, panel_id))


@router.get(
    "/{panel_id}/result",
    response_model=ResultOut,
    summary="The result of a panel",
    responses={
        404: openapi_problem("No such panel", NotFoundError),
        409: openapi_problem("Still being computed", ResultPendingError),
    },
)
async def get_result(panel_id: str, caller: CallerDep, session: SessionDep) -> ResultOut:
    """Ratios against the reference ranges, deficient minerals, food recommendations."""
    panel = await service.get_panel(session, caller, panel_id)
    result = await result_of(session, panel)
    if result is None:
        raise ResultPendingError(f"panel {panel_id!r} is still being analysed")
    return ResultOut.of(result)
