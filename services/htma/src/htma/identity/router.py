"""Sign-up, login (lockout, TOTP) and MFA enrolment. Refresh, logout and sessions come
from ``spaps_auth.fastapi.auth_router``; the JWKS from ``jwks_router``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from spaps_auth import (
    AccountLockedError,
    InvalidCredentialsError,
    InvalidOtpError,
    PasswordPolicyError,
    TokenPair,
)
from spaps_ops import openapi_problem
from spaps_ratelimit import RateLimitExceeded

from htma.accounts.schemas import EMAIL_PATTERN, TokenOut, UserOut
from htma.deps import CallerDep, PublicSessionDep, ServicesDep
from htma.errors import ConflictError, MfaRequiredError, SignupClosedError
from htma.identity.credentials import confirm_totp as enable_totp
from htma.identity.service import log_in, sign_up
from htma.limits import auth_limit

router = APIRouter(prefix="/v1/auth", tags=["identity"])


class SignUpIn(BaseModel):
    """A new clinic and its first lab admin."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"clinic_id": "northside", "clinic_name": "Northside Clinic",
                 "email": "admin@northside.example", "password": "a long passphrase here",
                 "display_name": "Nora Admin"}
            ]
        }
    )  # fmt: skip

    clinic_id: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
    clinic_name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=1, max_length=256)
    display_name: str = Field(min_length=1, max_length=200)


class SignUpOut(BaseModel):
    """The lab admin created, and a first session."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user": {"id": "5f0c3b2e9a7d4e6f8a1b2c3d4e5f6a7b", "clinic_id": "northside",
                          "email": "admin@northside.example", "display_name": "Nora Admin",
                          "role": "lab_admin"},
                 "tokens": {"access_token": "eyJhbGciOiJFZERTQSJ9...", "refresh_token": "rt_...",
                            "token_type": "Bearer", "expires_in": 900}}
            ]
        }
    )  # fmt: skip

    user: UserOut
    tokens: TokenOut


class LogInIn(BaseModel):
    """E-mail and password, plus the TOTP code once MFA is enabled."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "admin@northside.example", "password": "a long passphrase here"}]
        }
    )

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    otp: str | None = Field(
        default=None,
        max_length=64,
        description="TOTP code, or a recovery code as shown (xxxx-xxxx-xxxx-xxxx; case and "
        "dashes do not matter, each works once)",
    )


class LogInOut(TokenOut):
    """The tokens; after a recovery code, how many unused ones remain."""

    recovery_codes_remaining: int | None = Field(
        default=None, description="set when a recovery code was used: unused codes left"
    )


class TotpEnrolmentOut(BaseModel):
    """Scan ``otpauth_uri`` (or type ``secret``) in an authenticator app, then confirm."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"secret": "JBSWY3DPEHPK3PXP", "otpauth_uri": "otpauth://totp/htma:..."}]
        }
    )

    secret: str
    otpauth_uri: str


class TotpConfirmIn(BaseModel):
    """The first code from the authenticator app."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492039"}]})

    code: str = Field(min_length=6, max_length=8)


class RecoveryCodesOut(BaseModel):
    """Single-use recovery codes, shown once."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"recovery_codes": ["k3j4-..."]}]})

    recovery_codes: list[str]


def client_ip(request: Request) -> str:
    """The client's address as the server saw it."""
    return request.client.host if request.client else ""


@router.post(
    "/signup",
    response_model=SignUpOut,
    status_code=201,
    summary="Create a clinic and its lab admin",
    dependencies=[Depends(auth_limit)],
    responses={403: openapi_problem("Open sign-up is off: clinics join by invitation",
                                    SignupClosedError),
               409: openapi_problem("Clinic id or e-mail taken", ConflictError),
               422: openapi_problem("Password policy or invalid body", PasswordPolicyError),
               429: openapi_problem("Too many sign-ups and logins from this address",
                                    RateLimitExceeded)},
)  # fmt: skip
async def signup(
    body: SignUpIn, request: Request, session: PublicSessionDep, services: ServicesDep
) -> SignUpOut:
    """The clinic becomes a tenant; its first user is a lab admin, logged in at once.

    Only while open sign-up is on (``HTMA_OPEN_SIGNUP``; off in production)."""
    if not services.settings.signup_open:
        raise SignupClosedError("open sign-up is off: ask a lab admin for an invitation")
    user = await sign_up(
        session, services.auth, clinic_id=body.clinic_id, clinic_name=body.clinic_name,
        email=body.email, password=body.password, display_name=body.display_name,
    )  # fmt: skip
    pair = await services.auth.sessions.start(
        user.id,
        roles=[user.role],
        extra={"clinic": user.clinic_id, "name": user.display_name, "plan": "standard"},
        user_agent=request.headers.get("user-agent", ""),
        ip=client_ip(request),
    )
    return SignUpOut(user=UserOut.of(user), tokens=token_out(pair))


@router.post(
    "/login",
    response_model=LogInOut,
    summary="Log in (password, then TOTP when enabled)",
    dependencies=[Depends(auth_limit)],
    responses={401: openapi_problem("Wrong credentials, or one-time code needed",
                                    InvalidCredentialsError, MfaRequiredError, InvalidOtpError),
               429: openapi_problem("Locked after failures, or too many tries from this address",
                                    AccountLockedError, RateLimitExceeded)},
)  # fmt: skip
async def login(
    body: LogInIn, request: Request, session: PublicSessionDep, services: ServicesDep
) -> LogInOut:
    """Repeated failures lock the account with an escalating cooldown (429, Retry-After);
    wrong one-time codes count exactly like wrong passwords, from any address."""
    _, pair, remaining = await log_in(
        session, services.auth, email=body.email, password=body.password, otp=body.otp,
        client_ip=client_ip(request), user_agent=request.headers.get("user-agent", ""),
    )  # fmt: skip
    return LogInOut(**token_out(pair).model_dump(), recovery_codes_remaining=remaining)


@router.post(
    "/mfa/totp",
    response_model=TotpEnrolmentOut,
    summary="Start TOTP enrolment",
    responses={409: openapi_problem("Already enabled", ConflictError)},
)
async def begin_totp(caller: CallerDep, services: ServicesDep) -> TotpEnrolmentOut:
    """A new secret; MFA is enforced once confirmed."""
    try:
        enrolment = await services.auth.totp.begin_enrolment(
            caller.user_id, account_name=str(caller.principal.claims.get("name", caller.user_id))
        )
    except ValueError as exc:
        raise ConflictError(str(exc)) from exc
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.provisioning_uri)


@router.post(
    "/mfa/totp/confirm",
    response_model=RecoveryCodesOut,
    summary="Confirm TOTP enrolment",
    responses={401: openapi_problem("Wrong code", InvalidOtpError)},
)
async def confirm_totp(
    body: TotpConfirmIn, caller: CallerDep, services: ServicesDep
) -> RecoveryCodesOut:
    """From now on login needs a code; keep the recovery codes safe. The user's other
    sessions are revoked (they were opened without the second factor)."""
    codes = await enable_totp(
        services.auth, user_id=caller.user_id, current_session=caller.principal.session_id,
        code=body.code,
    )  # fmt: skip
    return RecoveryCodesOut(recovery_codes=codes)


def token_out(pair: TokenPair) -> TokenOut:
    """The API form of a token pair."""
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type="Bearer",  # noqa: S106 -- the OAuth token type, not a secret
        expires_in=pair.expires_in,
    )
