"""Signed cookie values with key rotation and expiry (HMAC-SHA256)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable

from ._errors import InvalidSignatureError
from ._keys import valid_kid

__all__ = ["CookieSigner"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CookieSigner:
    """Signs values as ``<kid>.<value>.<timestamp>.<mac>``; verifies with any listed key.

    Rotation: put the new key first (it signs) and keep the old one listed until every
    cookie it signed has expired (``max_age``).

    Args:
        keys: ``(kid, secret)`` pairs, newest first; secrets of at least 32 bytes.
        max_age: Seconds a signed value stays valid.
        namespace: Mixed into the MAC so values signed for one purpose do not verify
            for another.
        clock: Epoch seconds (inject in tests).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        keys: Iterable[tuple[str, bytes]],
        *,
        max_age: float = 14 * 24 * 3600,
        namespace: str = "spaps-auth.cookie",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys: dict[str, bytes] = {}
        for kid, secret in keys:
            if not valid_kid(kid) or "." in kid:
                raise ValueError(f"invalid kid {kid!r} (letters, digits, '_' and '-')")
            if not isinstance(secret, bytes) or len(secret) < 32:
                raise ValueError("cookie secrets must be bytes of at least 32 bytes")
            if kid in self._keys:
                raise ValueError(f"duplicate kid {kid!r}")
            self._keys[kid] = secret
        if not self._keys:
            raise ValueError("at least one key is required")
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        self._signing_kid = next(iter(self._keys))
        self.max_age = max_age
        self._namespace = namespace.encode()
        self._clock = clock

    def _mac(self, secret: bytes, message: str) -> str:
        return _b64(
            hmac.new(secret, self._namespace + b"|" + message.encode(), hashlib.sha256).digest()
        )

    def sign(self, value: str) -> str:
        """Sign ``value`` with the newest key and the current time."""
        message = f"{self._signing_kid}.{_b64(value.encode())}.{int(self._clock())}"
        return f"{message}.{self._mac(self._keys[self._signing_kid], message)}"

    def unsign(self, signed: str) -> str:
        """Verify and return the original value.

        Raises:
            InvalidSignatureError: Malformed, unknown key, bad MAC, or expired.
        """
        parts = signed.split(".") if isinstance(signed, str) and len(signed) <= 8192 else []
        if len(parts) != 4:
            raise InvalidSignatureError("malformed signed value")
        kid, payload, stamp, mac = parts
        secret = self._keys.get(kid)
        if secret is None:
            raise InvalidSignatureError("unknown signing key")
        if not hmac.compare_digest(self._mac(secret, f"{kid}.{payload}.{stamp}"), mac):
            raise InvalidSignatureError("bad signature")
        if not stamp.isdigit() or self._clock() - int(stamp) > self.max_age:
            raise InvalidSignatureError("signed value expired")
        try:
            return _unb64(payload).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidSignatureError("malformed signed value") from None
