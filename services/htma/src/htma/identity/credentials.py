"""Changing credentials: password change and reset, enabling and disabling MFA.

Each change revokes the user's *other* sessions (a password reset: all of them). The
point of changing a password or adding a second factor is usually that someone else
may know the old credentials; a session they opened with them would otherwise keep
refreshing for up to 90 days. The session making the change stays signed in. Revoked
sessions' refresh tokens fail at once, their access tokens within
``settings.session_check_ttl`` (at once in the process that revoked them).
"""

from __future__ import annotations

from spaps_auth import InvalidMagicLinkError, InvalidOtpError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from htma.accounts.models import User
from htma.errors import NotFoundError
from htma.identity.service import POLICY
from htma.identity.stack import AuthStack


async def _user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("the token's user no longer exists")
    return user


async def _check_policy(user: User, password: str) -> None:
    await POLICY.check(password, context=[user.email.split("@")[0], user.display_name])


async def change_password(
    session: AsyncSession,
    auth: AuthStack,
    *,
    user_id: str,
    current_session: str | None,
    current_password: str,
    new_password: str,
    client_ip: str,
) -> int:
    """Replace the password after checking the current one (a wrong one counts toward
    the lockout, like a failed login); returns how many other sessions were revoked.

    Raises:
        InvalidCredentialsError: wrong current password.
        AccountLockedError: too many failures.
        PasswordPolicyError: the new password breaks the policy.
    """
    user = await _user(session, user_id)
    await auth.login.verify(user.email, current_password, user.password_hash, client=client_ip)
    await _check_policy(user, new_password)
    user.password_hash = await auth.hasher.hash(new_password)
    await session.commit()
    revoked = await auth.sessions.revoke_all(user.id, except_session=current_session)
    await auth.audit.append(
        "password.changed", actor=user.id, data={"ip": client_ip, "sessions_revoked": revoked}
    )
    return revoked


async def request_password_reset(session: AsyncSession, auth: AuthStack, *, email: str) -> None:
    """Mail a single-use reset link when ``email`` belongs to a user (the caller is not
    told whether it does)."""
    address = email.strip().lower()
    user = await session.scalar(select(User).where(User.email == address))
    if user is None:
        return
    await auth.reset_links.send(address)
    await auth.audit.append("password.reset_requested", actor=user.id)


async def reset_password(
    session: AsyncSession, auth: AuthStack, *, email: str, token: str, new_password: str
) -> int:
    """Set a new password with a reset link sent to ``email``; revokes every session and
    lifts the account's lockout (the owner proved control of the address).

    The policy is checked before the link is used, so a refused password does not burn
    it; a link sent to another address is burnt and refused.

    Raises:
        InvalidMagicLinkError: unknown, expired, used, or sent to another address.
        PasswordPolicyError: the new password breaks the policy.
    """
    address = email.strip().lower()
    user = await session.scalar(select(User).where(User.email == address))
    if user is not None:
        await _check_policy(user, new_password)
    linked = await auth.reset_links.consume(token)
    if user is None or linked != address:
        raise InvalidMagicLinkError("invalid, expired or already used reset link")
    user.password_hash = await auth.hasher.hash(new_password)
    await session.commit()
    revoked = await auth.sessions.revoke_all(user.id)
    if auth.login.lockout is not None:
        await auth.login.lockout.record_success(address)
    await auth.audit.append("password.reset", actor=user.id, data={"sessions_revoked": revoked})
    return revoked


async def confirm_totp(
    auth: AuthStack, *, user_id: str, current_session: str | None, code: str
) -> list[str]:
    """Enable MFA with the first code; revokes the other sessions; returns the recovery
    codes (shown once)."""
    codes = await auth.totp.confirm(user_id, code)
    revoked = await auth.sessions.revoke_all(user_id, except_session=current_session)
    await auth.audit.append("mfa.enabled", actor=user_id, data={"sessions_revoked": revoked})
    return codes


async def disable_totp(
    auth: AuthStack, *, user_id: str, current_session: str | None, otp: str, client_ip: str
) -> int:
    """Disable MFA after a current code (TOTP or recovery code); revokes the other
    sessions; returns how many.

    Raises:
        InvalidOtpError: MFA is not enabled, or the code is wrong.
    """
    try:
        await auth.totp.verify_any(user_id, otp)
    except InvalidOtpError:
        await auth.audit.append("mfa.failed", actor=user_id, data={"ip": client_ip})
        raise
    await auth.totp.disable(user_id)
    revoked = await auth.sessions.revoke_all(user_id, except_session=current_session)
    await auth.audit.append("mfa.disabled", actor=user_id, data={"sessions_revoked": revoked})
    return revoked
