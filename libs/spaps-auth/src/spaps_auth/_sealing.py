"""Secrets sealed at rest: AES-256-GCM with a key id per ciphertext and associated data.

A sealed value is text, so it fits the ``String`` column the plaintext used to live in::

    s1:<key id>:<urlsafe base64 (no padding) of nonce (12 bytes) | ciphertext | tag>

The first key seals; every configured key opens, so old ciphertexts keep working during
a rotation until they are re-sealed (``TotpManager.reseal``). The associated data names
the row a value belongs to (e.g. the user id): a value copied into another row fails to
open instead of handing one user's secret to another. ``AESGCM`` is used rather than
``MultiFernet`` because Fernet has no associated data and no key ids.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import SealedSecretError

__all__ = ["SealingKey", "SecretSealer"]

_PREFIX = "s1:"
_NONCE = 12
_TAG = 16
_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True, slots=True)
class SealingKey:
    """A 256-bit AES key and its id (stored next to each ciphertext).

    Args:
        key_id: 1-32 characters ``[A-Za-z0-9_-]``.
        key: 32 random bytes.

    .. versionadded:: 0.3.0
    """

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(f"key id {self.key_id!r} must be 1-32 characters [A-Za-z0-9_-]")
        if len(self.key) != _KEY_BYTES:
            raise ValueError(f"key {self.key_id!r} must be {_KEY_BYTES} bytes, got {len(self.key)}")

    @classmethod
    def generate(cls, key_id: str) -> SealingKey:
        """A new random key."""
        return cls(key_id, os.urandom(_KEY_BYTES))

    def export(self) -> str:
        """The key as ``<key_id>:<urlsafe base64>`` (what :meth:`SecretSealer.parse` reads)."""
        return f"{self.key_id}:{base64.urlsafe_b64encode(self.key).decode()}"


class SecretSealer:
    """Seals short secrets with the primary (first) key; opens with any configured key.

    Args:
        keys: The keys, primary first (at least one, unique ids).

    .. versionadded:: 0.3.0
    """

    def __init__(self, keys: Sequence[SealingKey]) -> None:
        if not keys:
            raise ValueError("SecretSealer needs at least one key")
        for key in keys:
            if not isinstance(key, SealingKey):
                raise TypeError(f"keys must be SealingKey, got {type(key).__name__}")
        self._primary = keys[0].key_id
        self._ciphers = {k.key_id: AESGCM(k.key) for k in keys}
        if len(self._ciphers) != len(keys):
            raise ValueError("key ids must be unique")

    @classmethod
    def parse(cls, text: str) -> SecretSealer:
        """A sealer from ``"k2:<base64>,k1:<base64>"`` (comma-separated, primary first).

        Raises:
            ValueError: Empty, malformed entry, bad base64, wrong length or duplicate id.
        """
        keys = []
        for index, entry in enumerate(p.strip() for p in text.split(",") if p.strip()):
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise ValueError(f"sealing key #{index + 1} must look like '<id>:<base64>'")
            try:
                raw = base64.urlsafe_b64decode(encoded.encode())
            except (binascii.Error, ValueError):
                raise ValueError(f"sealing key {key_id!r} is not valid base64") from None
            keys.append(SealingKey(key_id, raw))
        return cls(keys)

    @property
    def primary_key_id(self) -> str:
        """Id of the key new values are sealed with."""
        return self._primary

    @staticmethod
    def is_sealed(value: str) -> bool:
        """Whether ``value`` looks like a sealed value (rather than a legacy plaintext)."""
        return value.startswith(_PREFIX)

    @staticmethod
    def key_id_of(value: str) -> str:
        """The id of the key that sealed ``value``.

        Raises:
            SealedSecretError: Not a sealed value.
        """
        if not value.startswith(_PREFIX) or value.count(":") != 2:  # s1, key id, body
            raise SealedSecretError("not a sealed value")
        return value.split(":")[1]

    def needs_reseal(self, value: str) -> bool:
        """Whether ``value`` is plaintext or sealed under a key other than the primary."""
        return not self.is_sealed(value) or self.key_id_of(value) != self._primary

    def seal(self, plaintext: str, *, aad: bytes) -> str:
        """Seal ``plaintext``, bound to ``aad`` (the row it will be stored in).

        Args:
            plaintext: The secret.
            aad: Associated data naming the row (e.g. ``b"totp:" + user_id``).
        """
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[self._primary].encrypt(nonce, plaintext.encode(), aad)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_PREFIX}{self._primary}:{body}"

    def open(self, value: str, *, aad: bytes) -> str:
        """Open a sealed value.

        Raises:
            SealedSecretError: Not sealed, unknown key id, tampered, or bound to other ``aad``.
        """
        key_id = self.key_id_of(value)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealedSecretError(f"no sealing key {key_id!r} is configured")
        body = value.split(":")[2]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise SealedSecretError("malformed sealed value") from None
        if len(raw) < _NONCE + _TAG:
            raise SealedSecretError("malformed sealed value")
        try:
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], aad).decode()
        except InvalidTag:
            raise SealedSecretError("sealed value failed authentication") from None

    def reseal(self, value: str, *, aad: bytes) -> str:
        """Seal under the primary key: plaintext as is, a sealed value after opening it."""
        plaintext = self.open(value, aad=aad) if self.is_sealed(value) else value
        return self.seal(plaintext, aad=aad)
