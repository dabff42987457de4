"""Password change, password reset by e-mailed link, and disabling MFA."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from spaps_auth import (
    AccountLockedError,
    InvalidCredentialsError,
    InvalidMagicLinkError,
    InvalidOtpError,
    PasswordPolicyError,
)
from spaps_ops import openapi_problem
from spaps_ratelimit import RateLimitExceeded

from htma.deps import CallerDep, PublicSessionDep, ServicesDep, SessionDep
from htma.identity.credentials import (
    change_password,
    disable_totp,
    request_password_reset,
    reset_password,
)
from htma.identity.router import client_ip
from htma.limits import auth_limit

router = APIRouter(prefix="/v1/auth", tags=["identity"])


class PasswordChangeIn(BaseModel):
    """The current password, and the new one."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"current_password": "the old passphrase here",
                                         "new_password": "a new long passphrase"}]}
    )  # fmt: skip

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class ResetRequestIn(BaseModel):
    """The address to send a reset link to."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "pat@northside.example"}]})

    email: str = Field(min_length=3, max_length=320)


class ResetConfirmIn(BaseModel):
    """The token from the reset link, the address it was sent to, and the new password."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "pat@northside.example",
                                         "token": "Jx7...", "password": "a new long passphrase"}]}
    )  # fmt: skip

    email: str = Field(min_length=3, max_length=320)
    token: str = Field(min_length=16, max_length=128)
    password: str = Field(min_length=1, max_length=256)


class MfaDisableIn(BaseModel):
    """A current TOTP code or an unused recovery code."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"otp": "492039"}]})

    otp: str = Field(min_length=6, max_length=64)


class SessionsRevokedOut(BaseModel):
    """Done; how many of the user's sessions were revoked by the change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sessions_revoked": 2}]})

    sessions_revoked: int


class ResetRequestedOut(BaseModel):
    """Accepted (the same answer whether or not the address has an account)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "if the address has an account, a link "
                                                   "valid 30 minutes was sent to it"}]}
    )  # fmt: skip

    detail: str


@router.post(
    "/password",
    response_model=SessionsRevokedOut,
    summary="Change the caller's password",
    responses={401: openapi_problem("Wrong current password", InvalidCredentialsError),
               422: openapi_problem("The new password breaks the policy", PasswordPolicyError),
               429: openapi_problem("Locked after failures", AccountLockedError)},
)  # fmt: skip
async def change(
    body: PasswordChangeIn,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
) -> SessionsRevokedOut:
    """A wrong current password counts toward the lockout. The caller's other sessions
    are revoked; this one stays signed in."""
    revoked = await change_password(
        session, services.auth, user_id=caller.user_id,
        current_session=caller.principal.session_id, current_password=body.current_password,
        new_password=body.new_password, client_ip=client_ip(request),
    )  # fmt: skip
    return SessionsRevokedOut(sessions_revoked=revoked)


@router.post(
    "/password/reset",
    response_model=ResetRequestedOut,
    status_code=202,
    summary="E-mail a password-reset link",
    dependencies=[Depends(auth_limit)],
    responses={429: openapi_problem("Too many requests from this address", RateLimitExceeded)},
)
async def request_reset(
    body: ResetRequestIn, session: PublicSessionDep, services: ServicesDep
) -> ResetRequestedOut:
    """Always 202: whether the address belongs to an account is not revealed. The link
    is valid 30 minutes, once."""
    await request_password_reset(session, services.auth, email=body.email)
    return ResetRequestedOut(
        detail="if the address has an account, a link valid 30 minutes was sent to it"
    )


@router.post(
    "/password/reset/confirm",
    response_model=SessionsRevokedOut,
    summary="Set a new password with a reset link",
    dependencies=[Depends(auth_limit)],
    responses={401: openapi_problem("Unknown, expired, used, or another address's link",
                                    InvalidMagicLinkError),
               422: openapi_problem("The new password breaks the policy", PasswordPolicyError),
               429: openapi_problem("Too many requests from this address", RateLimitExceeded)},
)  # fmt: skip
async def confirm_reset(
    body: ResetConfirmIn, session: PublicSessionDep, services: ServicesDep
) -> SessionsRevokedOut:
    """Every session of the account is revoked, and its lockout lifted."""
    revoked = await reset_password(
        session, services.auth, email=body.email, token=body.token, new_password=body.password
    )
    return SessionsRevokedOut(sessions_revoked=revoked)


@router.post(
    "/mfa/totp/disable",
    response_model=SessionsRevokedOut,
    summary="Disable TOTP",
    responses={401: openapi_problem("Wrong code, or MFA is not enabled", InvalidOtpError)},
)
async def disable(
    body: MfaDisableIn, request: Request, caller: CallerDep, services: ServicesDep
) -> SessionsRevokedOut:
    """Needs a current code or a recovery code. The caller's other sessions are revoked."""
    revoked = await disable_totp(
        services.auth, user_id=caller.user_id, current_session=caller.principal.session_id,
        otp=body.otp, client_ip=client_ip(request),
    )  # fmt: skip
    return SessionsRevokedOut(sessions_revoked=revoked)
