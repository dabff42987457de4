"""Password login: lockout check, constant-time verification, rehash."""

from __future__ import annotations

from ._errors import InvalidCredentialsError
from ._lockout import Lockout
from ._passwords import PasswordHasher

__all__ = ["PasswordLogin"]


class PasswordLogin:
    """Verifies a password login the safe way.

    1. refuses while the account or client is locked (429 with ``Retry-After``);
    2. verifies against the stored hash, or a dummy hash when the account does not
       exist, so unknown and known accounts take the same time;
    3. records the failure or success and returns a new hash when parameters changed.

    Args:
        hasher: The password hasher.
        lockout: Optional lockout policy.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, hasher: PasswordHasher, lockout: Lockout | None = None) -> None:
        self.hasher = hasher
        self.lockout = lockout

    async def verify(
        self, account: str, password: str, stored_hash: str | None, *, client: str | None = None
    ) -> str | None:
        """Check a login attempt.

        Args:
            account: The login name as typed (user name or e-mail).
            password: The password as typed.
            stored_hash: The account's hash, or ``None`` when no such account exists.
            client: Client identifier for per-client lockout (e.g. IP address).

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
        if self.lockout is not None:
            await self.lockout.record_success(account)
        return new_hash
