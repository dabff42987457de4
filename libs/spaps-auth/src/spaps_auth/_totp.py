"""TOTP (RFC 6238) enrolment and verification with recovery codes (extra ``totp``)."""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, sha256_hex, utcnow
from ._errors import InvalidOtpError
from ._tables import recovery_codes, totp_secrets

__all__ = ["TotpEnrolment", "TotpManager"]

_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def _pyotp() -> Any:
    try:
        import pyotp  # noqa: PLC0415 - optional extra, imported on first use
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("TOTP needs the extra: pip install 'spaps-auth[totp]'") from exc
    return pyotp


@dataclass(frozen=True)
class TotpEnrolment:
    """A pending enrolment: show ``provisioning_uri`` as a QR code (and ``secret``)."""

    secret: str
    provisioning_uri: str


def _normalise_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


class TotpManager:
    """TOTP second factor with replay protection and single-use recovery codes.

    A code is accepted once: the matched time step is stored and later codes must be
    from a newer step. Recovery codes are 80-bit random strings stored as SHA-256.

    Args:
        engine: Async engine holding the spaps-auth tables.
        issuer_name: Shown in authenticator apps.
        digits: Code length (6 or 8).
        interval: Time step in seconds.
        valid_window: Steps of clock drift accepted on either side.
        recovery_code_count: Codes generated on confirmation.
        time_source: Epoch seconds (inject in tests).
        clock: Aware UTC datetime for stored timestamps.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        issuer_name: str,
        digits: int = 6,
        interval: int = 30,
        valid_window: int = 1,
        recovery_code_count: int = 10,
        time_source: Callable[[], float] = time.time,
        clock: Now = utcnow,
    ) -> None:
        if digits not in (6, 8):
            raise ValueError("digits must be 6 or 8")
        if interval < 1 or valid_window < 0 or recovery_code_count < 1:
            raise ValueError("interval >= 1, valid_window >= 0, recovery_code_count >= 1")
        self._engine = engine
        self._issuer_name = issuer_name
        self._digits = digits
        self._interval = interval
        self._window = valid_window
        self._count = recovery_code_count
        self._time = time_source
        self._clock = clock

    def _totp(self, secret: str) -> Any:
        return _pyotp().TOTP(secret, digits=self._digits, interval=self._interval)

    def matching_step(self, secret: str, code: str) -> int | None:
        """The time step ``code`` belongs to within the drift window, or ``None``."""
        code = code.strip()
        if not code.isdigit() or len(code) != self._digits:
            return None
        totp = self._totp(secret)
        now = self._time()
        step = int(now // self._interval)
        found = None
        for offset in range(-self._window, self._window + 1):
            candidate = totp.at(now + offset * self._interval)
            if hmac.compare_digest(candidate, code):  # keep looping: constant work
                found = step + offset
        return found

    async def begin_enrolment(
        self, user_id: str, *, account_name: str, secret: str | None = None
    ) -> TotpEnrolment:
        """Start (or restart) an unconfirmed enrolment.

        Args:
            user_id: The user.
            account_name: Label in the authenticator app (usually the e-mail).
            secret: Base32 secret to import; default a fresh 160-bit one.

        Raises:
            ValueError: TOTP is already confirmed for this user (disable it first).
        """
        secret = secret or _pyotp().random_base32(32)
        base64.b32decode(secret, casefold=True)  # ValueError on a malformed secret
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(select(totp_secrets).where(totp_secrets.c.user_id == user_id))
            ).first()
            if row is not None and row.confirmed:
                raise ValueError("TOTP is already enabled for this user")
            await conn.execute(delete(totp_secrets).where(totp_secrets.c.user_id == user_id))
            await conn.execute(
                insert(totp_secrets).values(
                    user_id=user_id, secret=secret, confirmed=False, created_at=self._clock()
                )
            )
        uri = self._totp(secret).provisioning_uri(name=account_name, issuer_name=self._issuer_name)
        return TotpEnrolment(secret, uri)

    async def confirm(self, user_id: str, code: str) -> list[str]:
        """Confirm the enrolment with a first code; returns the recovery codes (shown once).

        Raises:
            InvalidOtpError: No pending enrolment or wrong code.
        """
        await self._accept(user_id, code, confirmed=False)
        async with self._engine.begin() as conn:
            await conn.execute(
                update(totp_secrets).where(totp_secrets.c.user_id == user_id).values(confirmed=True)
            )
        return await self.regenerate_recovery_codes(user_id)

    async def verify(self, user_id: str, code: str) -> None:
        """Verify a login code (each code works once).

        Raises:
            InvalidOtpError: Not enrolled, wrong, or replayed code.
        """
        await self._accept(user_id, code, confirmed=True)

    async def _accept(self, user_id: str, code: str, *, confirmed: bool) -> None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(totp_secrets).where(
                        totp_secrets.c.user_id == user_id, totp_secrets.c.confirmed.is_(confirmed)
                    )
                )
            ).first()
            step = self.matching_step(row.secret, code) if row is not None else None
            if step is None:
                raise InvalidOtpError("invalid code")
            # Conditional update: a replayed (or older) step matches nothing.
            result = await conn.execute(
                update(totp_secrets)
                .where(
                    and_(
                        totp_secrets.c.user_id == user_id,
                        or_(
                            totp_secrets.c.last_counter.is_(None),
                            totp_secrets.c.last_counter < step,
                        ),
                    )
                )
                .values(last_counter=step)
            )
            if result.rowcount != 1:
                raise InvalidOtpError("code already used")

    async def is_enabled(self, user_id: str) -> bool:
        """Whether the user has a confirmed TOTP factor."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(totp_secrets.c.confirmed).where(totp_secrets.c.user_id == user_id)
                )
            ).first()
        return bool(row and row.confirmed)

    async def disable(self, user_id: str) -> None:
        """Remove the TOTP factor and every recovery code of the user."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(totp_secrets).where(totp_secrets.c.user_id == user_id))
            await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))

    async def regenerate_recovery_codes(self, user_id: str) -> list[str]:
        """Replace the user's recovery codes; returns the new plaintext codes (shown once)."""
        codes = [
            "-".join(
                "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4)
            )
            for _ in range(self._count)
        ]
        async with self._engine.begin() as conn:
            await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            await conn.execute(
                insert(recovery_codes),
                [
                    {"user_id": user_id, "code_hash": sha256_hex(f"{user_id}:{_normalise_code(c)}")}
                    for c in codes
                ],
            )
        return codes

    async def use_recovery_code(self, user_id: str, code: str) -> int:
        """Consume a recovery code; returns how many unused codes remain.

        Raises:
            InvalidOtpError: Unknown or already used code.
        """
        digest = sha256_hex(f"{user_id}:{_normalise_code(code)}")
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(recovery_codes)
                .where(
                    recovery_codes.c.user_id == user_id,
                    recovery_codes.c.code_hash == digest,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=self._clock())
            )
            if result.rowcount != 1:
                raise InvalidOtpError("invalid recovery code")
            remaining = (
                await conn.execute(
                    select(recovery_codes.c.id).where(
                        recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
                    )
                )
            ).all()
        return len(remaining)
