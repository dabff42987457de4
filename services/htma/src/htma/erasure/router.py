"""Erasure routes: a clinic's lab admin erases the clinic; a user erases themself, or a
lab admin one of the clinic's users. Each answers 202 with the request; its status is
polled at ``GET /v1/erasures/{id}`` (the ``Location``).

The status route needs no token: the erasure ends the sessions of the very people who
asked (a clinic's users, or the user), so the request's random id is the credential to
read it (a capability URL, like a password-reset link). The answer names no person: the
kind, the subject's opaque id, the status, the row counts and the times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from spaps_auth import PermissionDeniedError
from spaps_ops import get_request_id, openapi_problem
from spaps_ratelimit import RateLimitExceeded

from htma.accounts.models import User
from htma.deps import CallerDep, PublicSessionDep, ServicesDep, SessionDep
from htma.erasure.models import ErasureRequest
from htma.erasure.service import erasure_of, request_erasure
from htma.errors import ConflictError, ForbiddenError, NotFoundError
from htma.limits import status_limit

router = APIRouter(prefix="/v1", tags=["erasure"])
status_router = APIRouter(prefix="/v1", tags=["erasure"])

_COUNTS: dict[str, Any] = {"auth_sessions": 2, "messages": 3, "panels": 1, "results": 1, "users": 1}


class ErasureIn(BaseModel):
    """Why the data is erased (kept with the request and in the audit log)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "GDPR art. 17 request 2026-118"}]}
    )

    reason: str = Field(min_length=1, max_length=500)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required (not only spaces)")
        return value.strip()


class ErasureOut(BaseModel):
    """An erasure request: ``queued``, ``running``, ``done`` or ``failed`` (retried
    until done; ``error`` says why it last failed), with the rows erased per table."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "e1d2c3b4a5f60718293a4b5c6d7e8f90", "kind": "user",
                 "subject": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "status": "done",
                 "counts": _COUNTS, "error": None, "created_at": "2026-12-06T10:00:00Z",
                 "started_at": "2026-12-06T10:00:01Z", "finished_at": "2026-12-06T10:00:02Z"}
            ]
        }
    )  # fmt: skip

    id: str
    kind: Literal["tenant", "user"]
    subject: str
    status: Literal["queued", "running", "done", "failed"]
    counts: dict[str, int]
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def of(cls, erasure: ErasureRequest) -> ErasureOut:
        return cls.model_validate(erasure, from_attributes=True)


def _accepted(erasure: ErasureRequest, response: Response) -> ErasureOut:
    response.headers["Location"] = f"/v1/erasures/{erasure.id}"
    return ErasureOut.of(erasure)


ClinicPath = Annotated[
    str, Path(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
              examples=["northside"])
]  # fmt: skip
UserPath = Annotated[
    str, Path(min_length=1, max_length=64, examples=["0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"])
]
_LOCATION = {"Location": {"description": "The request's status", "schema": {"type": "string"}}}


@router.post(
    "/clinics/{clinic}/erasure",
    response_model=ErasureOut,
    status_code=202,
    summary="Erase the caller's clinic and everything in it",
    responses={
        202: {"headers": _LOCATION},
        403: openapi_problem("Only the clinic's own lab admins", PermissionDeniedError,
                             ForbiddenError),
    },
)  # fmt: skip
async def erase_clinic(
    clinic: ClinicPath,
    body: ErasureIn,
    *,
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
) -> ErasureOut:
    """Queued; its users, panels, results, messages, webhooks and the clinic are erased
    by a job. Asking again while it is pending answers the same request. Every session
    of the clinic ends with it: poll the ``Location`` (no token needed)."""
    caller.require("clinic:admin")
    if clinic != caller.clinic:
        raise ForbiddenError("a lab admin erases their own clinic only")
    erasure, _ = await request_erasure(
        session, kind="tenant", subject=clinic, requested_by=caller.user_id,
        reason=body.reason, audit=services.auth.audit, request_id=get_request_id(),
    )  # fmt: skip
    return _accepted(erasure, response)


@router.post(
    "/users/{user_id}/erasure",
    response_model=ErasureOut,
    status_code=202,
    summary="Erase a user's personal data",
    responses={
        202: {"headers": _LOCATION},
        403: openapi_problem("Another user, and the caller is not a lab admin",
                             PermissionDeniedError),
        404: openapi_problem("No such user in the clinic", NotFoundError),
        409: openapi_problem("The clinic's last lab admin", ConflictError),
    },
)  # fmt: skip
async def erase_user(
    user_id: UserPath,
    body: ErasureIn,
    *,
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
) -> ErasureOut:
    """Users erase themselves; lab admins any user of their clinic. Queued: the user's
    sessions, credentials, messages (written or received) and, for a patient, panels and
    results are erased; the account stays as an anonymised tombstone. Asking again while
    it is pending answers the same request."""
    if user_id != caller.user_id:
        caller.require("clinic:admin")
    user = await session.get(User, user_id)
    if user is None or user.clinic_id != caller.clinic:
        raise NotFoundError(f"no user {user_id!r} in this clinic")
    erasure, _ = await request_erasure(
        session, kind="user", subject=user_id, requested_by=caller.user_id,
        reason=body.reason, audit=services.auth.audit, request_id=get_request_id(),
    )  # fmt: skip
    return _accepted(erasure, response)


@status_router.get(
    "/erasures/{erasure_id}",
    response_model=ErasureOut,
    summary="The status of an erasure request",
    dependencies=[Depends(status_limit)],
    responses={
        404: openapi_problem("No such request", NotFoundError),
        429: openapi_problem("Too many requests from this address", RateLimitExceeded),
    },
)
async def get_erasure(
    erasure_id: Annotated[str, Path(max_length=64, examples=["e1d2c3b4a5f60718293a4b5c6d7e8f90"])],
    session: PublicSessionDep,
) -> ErasureOut:
    """Status and rows erased per table. No token: the request's id is the credential
    (the erasure may have ended the requester's sessions)."""
    return ErasureOut.of(await erasure_of(session, erasure_id))
