"""TOTP (RFC 6238) enrolment and verification with recovery codes (extra ``totp``)."""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, utcnow
from ._errors import InvalidOtpError, SealedSecretError
from ._recovery_codes import replace_recovery_codes, use_recovery_code
from ._sealing import SecretSealer
from ._tables import recovery_codes, totp_secrets
from ._totp_reseal import Progress, reseal_secrets, secrets_to_reseal, totp_secret_aad

__all__ = ["TotpEnrolment", "TotpManager", "totp_secret_aad"]

#: Longest base32 secret accepted (a sealed one must fit the 255-character column).
_MAX_SECRET = 128


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


class TotpManager:
    """TOTP second factor with replay protection and single-use recovery codes.

    A code is accepted once: the matched time step is stored and later codes must be
    from a newer step. Recovery codes are 80-bit random strings stored as SHA-256.

    With a ``sealer``, secrets are stored sealed (AES-GCM, bound to the user id by the
    associated data, see :class:`SecretSealer`): a database dump shows no secret, and a
    row copied to another user does not open. A plaintext row then fails
    (:class:`SealedSecretError`) until :meth:`reseal` has sealed it.

    Args:
        engine: Async engine holding the spaps-auth tables.
        issuer_name: Shown in authenticator apps.
        digits: Code length (6 or 8).
        interval: Time step in seconds.
        valid_window: Steps of clock drift accepted on either side.
        recovery_code_count: Codes generated on confirmation.
        time_source: Epoch seconds (inject in tests).
        clock: Aware UTC datetime for stored timestamps.
        sealer: Seals the secrets at rest (``None``: stored in plaintext, as before).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.3.0 ``sealer``, :meth:`verify_any`, :meth:`reseal`.
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
        sealer: SecretSealer | None = None,
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
        self._sealer = sealer

    def _store(self, user_id: str, secret: str) -> str:
        if self._sealer is None:
            return secret
        return self._sealer.seal(secret, aad=totp_secret_aad(user_id))

    def _open(self, user_id: str, stored: str) -> str:
        sealed = SecretSealer.is_sealed(stored)
        if self._sealer is None:
            if sealed:
                raise SealedSecretError("the TOTP secret is sealed: configure the sealer")
            return stored
        if not sealed:
            raise SealedSecretError("plaintext TOTP secret found: run reseal() first")
        return self._sealer.open(stored, aad=totp_secret_aad(user_id))

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
        if len(secret) > _MAX_SECRET:
            raise ValueError(f"the secret must be at most {_MAX_SECRET} characters")
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
                    user_id=user_id,
                    secret=self._store(user_id, secret),
                    confirmed=False,
                    created_at=self._clock(),
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

    async def verify_any(self, user_id: str, code: str) -> int | None:
        """Verify a login code: a TOTP code, or else a recovery code (as shown, in any
        case, with or without dashes).

        Returns:
            ``None`` for a TOTP code; for a recovery code, how many unused ones remain.

        Raises:
            InvalidOtpError: Not enrolled, wrong, replayed or used code.

        .. versionadded:: 0.3.0
        """
        stripped = code.strip()
        if stripped.isdigit() and len(stripped) == self._digits:
            await self.verify(user_id, stripped)
            return None
        return await self.use_recovery_code(user_id, code)

    async def reseal(self, *, batch_size: int = 500, progress: Progress | None = None) -> int:
        """Seal every plaintext secret, and re-seal those sealed under an older key, with
        the sealer's primary key (after which older keys can be dropped).

        Args:
            batch_size: Rows per transaction.
            progress: Called with the number of rows handled after each batch.

        Returns:
            How many rows were (re-)sealed.

        Raises:
            ValueError: The manager has no sealer.
            SealedSecretError: A row cannot be opened with the configured keys.

        .. versionadded:: 0.3.0
        """
        if self._sealer is None:
            raise ValueError("reseal needs a sealer")
        return await reseal_secrets(
            self._engine, self._sealer, batch_size=batch_size, progress=progress
        )

    async def reseal_pending(self) -> int:
        """How many rows :meth:`reseal` would (re-)seal (for a progress bar's length).

        .. versionadded:: 0.3.0
        """
        if self._sealer is None:
            raise ValueError("reseal needs a sealer")
        return len(await secrets_to_reseal(self._engine, self._sealer))

    async def _accept(self, user_id: str, code: str, *, confirmed: bool) -> None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(totp_secrets).where(
                        totp_secrets.c.user_id == user_id, totp_secrets.c.confirmed.is_(confirmed)
                    )
                )
            ).first()
            secret = self._open(user_id, row.secret) if row is not None else None
            step = self.matching_step(secret, code) if secret is not None else None
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
        return await replace_recovery_codes(self._engine, user_id, count=self._count)

    async def use_recovery_code(self, user_id: str, code: str) -> int:
        """Consume a recovery code (any case, with or without dashes); returns how many
        unused codes remain.

        Raises:
            InvalidOtpError: Unknown or already used code.
        """
        return await use_recovery_code(self._engine, user_id, code, now=self._clock())
