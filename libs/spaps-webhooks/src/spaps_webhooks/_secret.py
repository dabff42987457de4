"""``whsec_`` secrets: generation, parsing and validation."""

from __future__ import annotations

import base64
import binascii
import secrets as _random

PREFIX = "whsec_"
MIN_BYTES = 24
MAX_BYTES = 64


class WebhookSecret:
    """A Standard Webhooks signing secret: 24 to 64 random bytes, shown as ``whsec_<base64>``.

    The ``repr`` never shows the key, so a secret logged by accident stays secret.

    Args:
        key: The raw key bytes (24 to 64 of them).
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes):
            raise TypeError(f"key must be bytes, not {type(key).__name__}")
        if not MIN_BYTES <= len(key) <= MAX_BYTES:
            raise ValueError(
                f"a webhook secret has {MIN_BYTES} to {MAX_BYTES} bytes, got {len(key)}"
            )
        self._key = key

    @classmethod
    def generate(cls, nbytes: int = 32) -> WebhookSecret:
        """Return a new random secret of ``nbytes`` bytes (from :mod:`secrets`).

        Args:
            nbytes: Key length, 24 to 64 (default 32).
        """
        if not MIN_BYTES <= nbytes <= MAX_BYTES:
            raise ValueError(f"nbytes must be between {MIN_BYTES} and {MAX_BYTES}, got {nbytes}")
        return cls(_random.token_bytes(nbytes))

    @classmethod
    def parse(cls, value: str | WebhookSecret) -> WebhookSecret:
        """Parse a ``whsec_<base64>`` string (the prefix is optional, padding may be omitted).

        Args:
            value: The secret as shown to the endpoint owner, or a secret already parsed.

        Raises:
            ValueError: The string is not base64 or does not decode to 24 to 64 bytes.
        """
        if isinstance(value, WebhookSecret):
            return value
        if not isinstance(value, str):
            raise TypeError(f"a webhook secret is a str, not {type(value).__name__}")
        encoded = value.removeprefix(PREFIX)
        encoded += "=" * (-len(encoded) % 4)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a webhook secret is whsec_ followed by base64") from exc
        return cls(key)

    @property
    def key(self) -> bytes:
        """The raw HMAC key."""
        return self._key

    def __str__(self) -> str:
        return PREFIX + base64.b64encode(self._key).decode("ascii")

    def __repr__(self) -> str:
        return f"WebhookSecret(<{len(self._key)} bytes>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WebhookSecret):
            return NotImplemented
        return _random.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self._key)
