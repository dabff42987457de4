"""Users of the caller's clinic: list (practitioners, admins) and create (lab admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from spaps_auth import PasswordPolicyError, PermissionDeniedError
from spaps_ops import openapi_problem
from sqlalchemy import select

from htma.accounts.models import User
from htma.accounts.schemas import RoleName, UserIn, UserOut
from htma.clinics.roles import Role
from htma.deps import CallerDep, ServicesDep, SessionDep
from htma.errors import ConflictError, NotFoundError
from htma.identity.service import create_user

router = APIRouter(prefix="/v1", tags=["users"])


@router.get("/me", response_model=UserOut, summary="The caller")
async def me(caller: CallerDep, session: SessionDep) -> UserOut:
    """The authenticated user."""
    user = await session.get(User, caller.user_id)
    if user is None or user.clinic_id != caller.clinic:
        raise NotFoundError("the token's user no longer exists")
    return UserOut.of(user)


@router.get(
    "/users",
    response_model=list[UserOut],
    summary="Users of the caller's clinic",
    responses={403: openapi_problem("Role lacks patients:read", PermissionDeniedError)},
)
async def list_users(
    caller: CallerDep,
    session: SessionDep,
    role: Annotated[RoleName | None, Query(examples=["patient"])] = None,
) -> list[UserOut]:
    """Only the caller's clinic, optionally one role, ordered by name."""
    caller.require("patients:read")
    # users are not tenant-scoped (login looks them up by e-mail): filter explicitly.
    stmt = select(User).where(User.clinic_id == caller.clinic)
    if role is not None:
        stmt = stmt.where(User.role == role)
    rows = await session.scalars(stmt.order_by(User.display_name, User.id).limit(500))
    return [UserOut.of(u) for u in rows]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Add a user to the caller's clinic",
    responses={
        403: openapi_problem("Only lab admins", PermissionDeniedError),
        409: openapi_problem("E-mail taken", ConflictError),
        422: openapi_problem("Password policy or invalid body", PasswordPolicyError),
    },
)
async def add_user(
    body: UserIn, caller: CallerDep, session: SessionDep, services: ServicesDep
) -> UserOut:
    """Lab admins add practitioners, patients and other admins to their clinic."""
    caller.require("users:write")
    user = await create_user(
        session, services.auth, clinic_id=caller.clinic, email=body.email,
        password=body.password, display_name=body.display_name, role=Role(body.role),
    )  # fmt: skip
    await session.commit()
    return UserOut.of(user)
