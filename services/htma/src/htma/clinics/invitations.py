"""Clinic invitations: a lab admin invites practitioners and patients by e-mail.

spaps-auth's ``OrganisationManager`` keeps the invitations (token hashed at rest, seven
days, single use, a resend supersedes the previous link); each clinic is mirrored as an
organisation with the same id. Accepting creates the user in the inviting clinic with
the invited role and e-mail: nothing in the request can choose another clinic or role.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from spaps_auth import InvalidInvitationError, PasswordPolicyError, PermissionDeniedError
from spaps_ops import openapi_problem
from sqlalchemy import select

from htma.accounts.models import User, new_id
from htma.accounts.schemas import EMAIL_PATTERN, UserOut
from htma.clinics.models import Clinic
from htma.clinics.roles import Role
from htma.deps import CallerDep, PublicSessionDep, ServicesDep, SessionDep
from htma.errors import ConflictError
from htma.identity.router import SignUpOut, client_ip, token_out
from htma.identity.service import POLICY, create_user, start_session

router = APIRouter(tags=["clinics"])


class InvitationIn(BaseModel):
    """Who to invite, and as what."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "pat@northside.example", "role": "patient"}]}
    )

    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    role: Literal["practitioner", "patient"]


class InvitationOut(BaseModel):
    """A sent invitation (the link went to the invitee only)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "3f9a0c1b2d4e5f60", "email": "pat@northside.example",
                                         "role": "patient", "expires_at": "2026-12-13T10:00:00Z"}]}
    )  # fmt: skip

    id: str
    email: str
    role: Literal["practitioner", "patient"]
    expires_at: AwareDatetime


class AcceptIn(BaseModel):
    """The token from the invitation link, the invited address, and the new account."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "Jx7...", "email": "pat@northside.example",
                                         "password": "a long passphrase here",
                                         "display_name": "Pat Patient"}]}
    )  # fmt: skip

    token: str = Field(min_length=16, max_length=128)
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    display_name: str = Field(min_length=1, max_length=200)


@router.post(
    "/v1/clinic/invitations",
    response_model=InvitationOut,
    status_code=201,
    summary="Invite a practitioner or patient to the caller's clinic",
    responses={403: openapi_problem("Only lab admins", PermissionDeniedError),
               409: openapi_problem("The e-mail already has an account", ConflictError)},
)  # fmt: skip
async def invite(
    body: InvitationIn, caller: CallerDep, session: SessionDep, services: ServicesDep
) -> InvitationOut:
    """E-mails a single-use link valid seven days; inviting the address again replaces it."""
    caller.require("users:write")
    email = body.email.strip().lower()
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ConflictError(f"the e-mail {email!r} is already registered")
    clinic = await session.get(Clinic, caller.clinic)
    await services.auth.orgs.ensure_organisation(caller.clinic, clinic.name if clinic else "")
    invitation, _token = await services.auth.orgs.invite(
        caller.clinic, email, body.role, invited_by=caller.user_id
    )
    await services.auth.audit.append(
        "invitation.created", actor=caller.user_id, target=invitation.id,
        data={"clinic": caller.clinic, "email": email, "role": body.role},
    )  # fmt: skip
    return InvitationOut(
        id=invitation.id, email=email, role=body.role, expires_at=invitation.expires_at
    )


@router.post(
    "/v1/auth/invitations/accept",
    response_model=SignUpOut,
    status_code=201,
    summary="Accept an invitation: create the account and sign in",
    responses={409: openapi_problem("The e-mail already has an account", ConflictError),
               410: openapi_problem("Unknown, expired, superseded or used invitation, "
                                    "or another address's", InvalidInvitationError),
               422: openapi_problem("Password policy or invalid body", PasswordPolicyError)},
)  # fmt: skip
async def accept(
    body: AcceptIn, request: Request, session: PublicSessionDep, services: ServicesDep
) -> SignUpOut:
    """The account joins the inviting clinic with the invited role."""
    orgs = services.auth.orgs
    email = body.email.strip().lower()
    pending = await orgs.pending_invitation(body.token)
    if pending is None or pending.email != email or pending.role not in {"practitioner", "patient"}:
        raise InvalidInvitationError("invalid, expired, superseded or used invitation")
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ConflictError(f"the e-mail {email!r} is already registered")
    # Checked before the invitation is used, so a refused password does not burn it.
    await POLICY.check(body.password, context=[email.split("@")[0], body.display_name])
    user_id = new_id()
    # Consumed first, in its own transaction (single use even under concurrent accepts);
    # the user is created after, so SQLite never has two writers at once.
    membership = await orgs.accept(body.token, user_id, email=email)
    user = await create_user(
        session, services.auth, clinic_id=membership.org_id, email=email,
        password=body.password, display_name=body.display_name, role=Role(membership.role),
        user_id=user_id,
    )  # fmt: skip
    await session.commit()
    await services.auth.audit.append(
        "invitation.accepted", actor=user.id, target=pending.id, data={"clinic": user.clinic_id}
    )
    pair = await start_session(
        session, services.auth, user,
        user_agent=request.headers.get("user-agent", ""), client_ip=client_ip(request),
    )  # fmt: skip
    return SignUpOut(user=UserOut.of(user), tokens=token_out(pair))
