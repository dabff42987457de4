"""Sign-up, users and login: the identity-provider side of htma (framework-agnostic)."""

from __future__ import annotations

import re

from spaps_auth import InvalidCredentialsError, InvalidOtpError, PasswordPolicy, TokenPair
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from htma.accounts.models import User
from htma.clinics.models import Clinic
from htma.clinics.roles import Role
from htma.errors import ConflictError, MfaRequiredError
from htma.identity.stack import AuthStack

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])")
POLICY = PasswordPolicy()


def check_clinic_id(clinic_id: str) -> str:
    """A clinic id is a slug: 3-64 characters ``[a-z0-9-]``, no dash at either end.

    Raises:
        ValueError: not a slug.
    """
    if not _SLUG.fullmatch(clinic_id):
        raise ValueError(
            "clinic id must be 3-64 characters a-z, 0-9 and '-', not starting or ending with '-'"
        )
    return clinic_id


async def create_user(
    session: AsyncSession,
    auth: AuthStack,
    *,
    clinic_id: str,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    user_id: str | None = None,
) -> User:
    """Add a user to a clinic (password checked against the policy, hashed with argon2id).

    ``user_id``: the new user's id (default: a random one).

    Raises:
        PasswordPolicyError: the password is too short, common or contains the e-mail.
        ConflictError: the e-mail is taken.
    """
    email = email.strip().lower()
    await POLICY.check(password, context=[email.split("@")[0], display_name])
    user = User(
        **({"id": user_id} if user_id else {}),
        clinic_id=clinic_id,
        email=email,
        display_name=display_name,
        role=role.value,
        password_hash=await auth.hasher.hash(password),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise ConflictError(f"the e-mail {email!r} is already registered") from None
    return user


async def sign_up(
    session: AsyncSession,
    auth: AuthStack,
    *,
    clinic_id: str,
    clinic_name: str,
    email: str,
    password: str,
    display_name: str,
) -> User:
    """Create a clinic and its first lab admin, in one transaction.

    Raises:
        ConflictError: the clinic id or the e-mail is taken.
        PasswordPolicyError: the password breaks the policy.
    """
    check_clinic_id(clinic_id)
    if await session.get(Clinic, clinic_id) is not None:
        raise ConflictError(f"the clinic id {clinic_id!r} is taken")
    session.add(Clinic(id=clinic_id, name=clinic_name))
    await session.flush()  # no ORM relationship orders the inserts: the clinic goes first
    user = await create_user(
        session, auth, clinic_id=clinic_id, email=email, password=password,
        display_name=display_name, role=Role.LAB_ADMIN,
    )  # fmt: skip
    await session.commit()
    return user


async def log_in(
    session: AsyncSession,
    auth: AuthStack,
    *,
    email: str,
    password: str,
    otp: str | None,
    client_ip: str,
    user_agent: str,
) -> tuple[User, TokenPair, int | None]:
    """Check a password (lockout, constant time for unknown accounts), then the second
    factor when MFA is enabled, and open a session whose tokens carry role and clinic.

    A wrong second factor (TOTP or recovery code) counts toward the account's lockout
    exactly like a wrong password, and is audited (``mfa.failed``); a recovery code's use
    is audited too (``mfa.recovery_code_used``).

    Returns:
        The user, the token pair, and the recovery codes left when one was used.

    Raises:
        AccountLockedError: too many failures (429 with ``Retry-After``).
        InvalidCredentialsError: unknown e-mail or wrong password.
        MfaRequiredError: MFA is enabled and ``otp`` is missing.
        InvalidOtpError: wrong, replayed or used code.
    """
    email = email.strip().lower()
    user = await session.scalar(select(User).where(User.email == email))
    remaining: list[int | None] = [None]

    async def second_factor() -> None:
        # Only called once the password matched, so ``user`` exists.
        if user is None or not await auth.totp.is_enabled(user.id):
            return
        if not otp:
            raise MfaRequiredError("this account needs a one-time code: send `otp`")
        try:
            remaining[0] = await auth.totp.verify_any(user.id, otp)
        except InvalidOtpError:
            await auth.audit.append("mfa.failed", actor=user.id, data={"ip": client_ip})
            raise
        if remaining[0] is not None:
            await auth.audit.append(
                "mfa.recovery_code_used", actor=user.id,
                data={"ip": client_ip, "remaining": remaining[0]},
            )  # fmt: skip

    new_hash = await auth.login.verify(
        email, password, user.password_hash if user else None, client=client_ip,
        second_factor=second_factor,
    )  # fmt: skip
    if user is None:  # pragma: no cover - verify() raised for an unknown account
        raise InvalidCredentialsError("invalid credentials")
    if new_hash is not None:
        user.password_hash = new_hash
        await session.commit()
    pair = await start_session(session, auth, user, user_agent=user_agent, client_ip=client_ip)
    return user, pair, remaining[0]


async def start_session(
    session: AsyncSession, auth: AuthStack, user: User, *, user_agent: str, client_ip: str
) -> TokenPair:
    """Open a session for ``user``: its tokens carry the role, the clinic and its plan."""
    clinic = await session.get(Clinic, user.clinic_id)
    plan = clinic.plan if clinic is not None else "standard"
    return await auth.sessions.start(
        user.id,
        roles=[user.role],
        extra={"clinic": user.clinic_id, "name": user.display_name, "plan": plan},
        user_agent=user_agent,
        ip=client_ip,
    )
