"""Password login: lockout check, constant-time verification, rehash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ._errors import AuthenticationError, InvalidCredentialsError
from ._lockout import Lockout
from ._passwords import PasswordHasher

__all__ = ["PasswordLogin", "SecondFactor"]

#: Checks the second factor once the password is right; raises an
#: :class:`AuthenticationError` (e.g. ``InvalidOtpError``) when it is wrong.
SecondFactor = Callable[[], Awaitable[object]]


class PasswordLogin:
    """Verifies a password login the safe way.

    1. refuses while the account or client is locked (429 with ``Retry-After``);
    2. verifies against the stored hash, or a dummy hash when the account does not
       exist, so unknown and known accounts take the same time;
    3. when given, runs the ``second_factor`` check: a wrong second factor counts as a
       failure of the account and the client exactly like a wrong password (same
       thresholds, same escalation), so one-time codes cannot be guessed from many
       addresses without locking the account;
    4. records the failure or success and returns a new hash when parameters changed.

    Args:
        hasher: The password hasher.
        lockout: Optional lockout policy.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.3.0 ``second_factor``.
    """

    def __init__(self, *, hasher: PasswordHasher, lockout: Lockout | None = None) -> None:
        self.hasher = hasher
        self.lockout = lockout

    async def verify(
        self,
        account: str,
        password: str,
        stored_hash: str | None,
        *,
        client: str | None = None,
        second_factor: SecondFactor | None = None,
    ) -> str | None:
        """Check a login attempt.

        Args:
            account: The login name as typed (user name or e-mail).
            password: The password as typed.
            stored_hash: The account's hash, or ``None`` when no such account exists.
            client: Client identifier for per-client lockout (e.g. IP address).
            second_factor: Run after a correct password. An ``AuthenticationError`` it
                raises is recorded as a failure and re-raised; any other exception (e.g.
                "a code is needed") propagates without counting, and without resetting
                the account's counter.

        Returns:
            A new hash to store when a rehash is due, else ``None``.

        Raises:
            AccountLockedError: Too many recent failures.
            InvalidCredentialsError: Unknown account or wrong password.
        """
        if self.lockout is not None:
            await self.lockout.check(account, client)
        ok, new_hash = await self.hasher.verify_and_update(stored_hash, password)
        if not ok:
            if self.lockout is not None:
                await self.lockout.record_failure(account, client)
            raise InvalidCredentialsError("invalid credentials")
        if second_factor is not None:
            try:
                await second_factor()
            except AuthenticationError:
                if self.lockout is not None:
                    await self.lockout.record_failure(account, client)
                raise
        if self.lockout is not None:
            await self.lockout.record_success(account)
        return new_hash
