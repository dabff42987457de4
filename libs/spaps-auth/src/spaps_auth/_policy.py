"""Password policy (NIST SP 800-63B style) and the breached-password range client."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Iterable

import httpx

from ._common_passwords import common_passwords
from ._errors import BreachCheckUnavailableError, PasswordPolicyError

__all__ = ["BreachedPasswordChecker", "PasswordPolicy"]

logger = logging.getLogger("spaps_auth.passwords")

PWNED_RANGE_URL = "https://api.pwnedpasswords.com/range/"


class BreachedPasswordChecker:
    """Checks a password against a k-anonymity range API (Have I Been Pwned format).

    Only the first five hex characters of the password's SHA-1 leave the process; the
    API answers every suffix with that prefix and the match happens locally. Padding is
    requested (``Add-Padding: true``) so the response size does not leak the prefix's
    popularity; padded entries (count 0) are ignored.

    Args:
        client: The httpx client to use (inject one with a transport in tests). When
            omitted a client is created per call with ``timeout``.
        base_url: Range endpoint; the prefix is appended.
        fail_open: When the API fails: ``True`` treats the password as not breached,
            ``False`` raises :class:`BreachCheckUnavailableError`. Both are logged.
        timeout: Seconds for the request when no client is given.
        min_count: Breach count from which a password counts as breached.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        base_url: str = PWNED_RANGE_URL,
        fail_open: bool = True,
        timeout: float = 3.0,
        min_count: int = 1,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if min_count < 1:
            raise ValueError("min_count must be >= 1")
        self._client = client
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._fail_open = fail_open
        self._timeout = timeout
        self._min_count = min_count

    async def _fetch(self, prefix: str) -> str:
        headers = {"Add-Padding": "true", "User-Agent": "spaps-auth"}
        if self._client is not None:
            response = await self._client.get(self._base_url + prefix, headers=headers)
        else:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(self._base_url + prefix, headers=headers)
        response.raise_for_status()
        return response.text

    async def breach_count(self, password: str) -> int | None:
        """How often the password appears in breaches; ``None`` if unknown (fail-open).

        Args:
            password: The plaintext candidate.

        Raises:
            BreachCheckUnavailableError: The API failed and the checker is fail-closed.
        """
        digest = hashlib.sha1(password.encode("utf-8")).hexdigest().upper()  # noqa: S324 - the range API is defined over SHA-1
        prefix, suffix = digest[:5], digest[5:]
        try:
            body = await self._fetch(prefix)
        except httpx.HTTPError as exc:
            logger.warning(
                "breached-password check failed (%s); failing %s",
                type(exc).__name__,
                "open" if self._fail_open else "closed",
            )
            if self._fail_open:
                return None
            raise BreachCheckUnavailableError(
                "the breached-password service is unavailable"
            ) from exc
        for line in body.splitlines():
            candidate, _, count = line.strip().partition(":")
            if candidate.upper() == suffix:
                try:
                    return int(count)
                except ValueError:
                    return 0
        return 0

    async def is_breached(self, password: str) -> bool:
        """Whether the password is known breached (``False`` when unknown and fail-open)."""
        count = await self.breach_count(password)
        return count is not None and count >= self._min_count


def _normalise(password: str) -> str:
    # NIST SP 800-63B 5.1.1.2: normalise Unicode (NFKC) before length checks and hashing.
    return unicodedata.normalize("NFKC", password)


class PasswordPolicy:
    """NIST SP 800-63B style policy: length limits and a blocklist, no composition rules.

    Violation codes: ``too_short``, ``too_long``, ``common``, ``context``, ``breached``.

    Args:
        min_length: Minimum length in code points after NFKC normalisation (>= 8).
        max_length: Maximum length (>= 64, as NIST requires accepting at least 64).
        blocklist: Extra forbidden passwords (compared case-insensitively), added to a
            built-in list of very common passwords.
        breach_checker: Optional range-API checker consulted after the local checks.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        min_length: int = 8,
        max_length: int = 128,
        blocklist: Iterable[str] = (),
        breach_checker: BreachedPasswordChecker | None = None,
    ) -> None:
        if min_length < 8:
            raise ValueError("min_length must be >= 8 (NIST SP 800-63B)")
        if max_length < max(64, min_length):
            raise ValueError("max_length must be >= 64 and >= min_length")
        self.min_length = min_length
        self.max_length = max_length
        self._blocklist = common_passwords() | {word.casefold() for word in blocklist}
        self._breach_checker = breach_checker

    def local_violations(self, password: str, *, context: Iterable[str] = ()) -> list[str]:
        """Violations found without the network.

        Args:
            password: The candidate.
            context: Words the password must not equal or contain (user name, e-mail,
                service name); entries shorter than 4 characters are ignored.
        """
        normalised = _normalise(password)
        violations: list[str] = []
        if len(normalised) < self.min_length:
            violations.append("too_short")
        if len(normalised) > self.max_length:
            violations.append("too_long")
        folded = normalised.casefold()
        if folded in self._blocklist:
            violations.append("common")
        for raw in context:
            word = _normalise(raw).casefold()
            if len(word) >= 4 and word in folded:
                violations.append("context")
                break
        return violations

    async def check(self, password: str, *, context: Iterable[str] = ()) -> None:
        """Raise :class:`PasswordPolicyError` if ``password`` is not acceptable.

        Args:
            password: The candidate.
            context: Words specific to the user that the password must not contain.
        """
        violations = self.local_violations(password, context=context)
        if (
            not violations
            and self._breach_checker is not None
            and await self._breach_checker.is_breached(_normalise(password))
        ):
            violations.append("breached")
        if violations:
            raise PasswordPolicyError(violations)
