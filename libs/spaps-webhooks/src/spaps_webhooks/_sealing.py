"""Endpoint signing secrets sealed at rest: AES-GCM with a key id, bound to the endpoint.

A sealed value reads ``sealed:v1:<key id>:<base64url(nonce || ciphertext || tag)>``. The
associated data names the endpoint (and the key id), so a value copied to another
endpoint's row fails to open. Several keys may be configured: the first seals, every one
opens, so old keys keep working until :func:`reseal_secrets` has re-sealed every row.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets as _random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import SecretSealingError

SEALED_PREFIX = "sealed:v1:"
DEFAULT_KEYS_ENV = "SPAPS_WEBHOOKS_SEALING_KEYS"
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_NONCE_BYTES = 12
_AAD_PREFIX = b"spaps-webhooks/endpoint-secret/v1\x00"


@dataclass(frozen=True, slots=True, repr=False)
class SealingKey:
    """An AES-GCM key (16, 24 or 32 bytes) with the id stored beside each ciphertext.

    Args:
        kid: Key id: 1 to 32 letters, digits, ``_``, ``.`` or ``-``.
        key: The raw key.
    """

    kid: str
    key: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.kid, str) or not _KID.match(self.kid):
            raise ValueError("a key id is 1-32 letters, digits, '_', '.' or '-'")
        if not isinstance(self.key, bytes) or len(self.key) not in (16, 24, 32):
            raise ValueError("an AES-GCM key has 16, 24 or 32 bytes")

    @classmethod
    def generate(cls, kid: str) -> SealingKey:
        """A new random 256-bit key named ``kid``."""
        return cls(kid, AESGCM.generate_key(bit_length=256))

    @classmethod
    def parse(cls, value: str) -> SealingKey:
        """Parse ``"<kid>:<base64 key>"`` (the form :meth:`__str__` and the settings use).

        Raises:
            ValueError: The string is not of that form.
        """
        kid, sep, encoded = value.strip().partition(":")
        if not sep:
            raise ValueError("a sealing key looks like <kid>:<base64 key>")
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a sealing key's key part is base64") from exc
        return cls(kid, key)

    def __str__(self) -> str:
        return f"{self.kid}:{base64.b64encode(self.key).decode('ascii')}"

    def __repr__(self) -> str:
        return f"SealingKey(kid={self.kid!r}, <{len(self.key)} bytes>)"


def _aad(kid: str, endpoint_id: str) -> bytes:
    return _AAD_PREFIX + kid.encode() + b"\x00" + endpoint_id.encode()


def is_sealed(value: str) -> bool:
    """Whether a stored secret is sealed (rather than a legacy plaintext ``whsec_`` value)."""
    return value.startswith(SEALED_PREFIX)


def sealed_kid(value: str) -> str | None:
    """The key id a stored value is sealed under (``None`` for plaintext)."""
    if not is_sealed(value):
        return None
    return value[len(SEALED_PREFIX) :].partition(":")[0]


class SecretSealer:
    """Seals and opens endpoint secrets with AES-GCM (``cryptography``).

    Args:
        keys: One or more keys (or ``"<kid>:<base64>"`` strings). The first seals new
            values; all of them open stored ones, so a retired key stays listed until
            :func:`reseal_secrets` has run under the new first key.

    .. versionadded:: 0.3.0
    """

    def __init__(self, keys: Sequence[SealingKey | str]) -> None:
        if isinstance(keys, (str, SealingKey)):
            raise TypeError("keys is a list of keys, not one key")
        parsed = [k if isinstance(k, SealingKey) else SealingKey.parse(k) for k in keys]
        if not parsed:
            raise ValueError("SecretSealer needs at least one key")
        kids = [k.kid for k in parsed]
        if len(set(kids)) != len(kids):
            raise ValueError("key ids must be unique")
        self._primary = parsed[0].kid
        self._keys = {k.kid: AESGCM(k.key) for k in parsed}

    @classmethod
    def from_env(
        cls, name: str = DEFAULT_KEYS_ENV, *, environ: dict[str, str] | None = None
    ) -> SecretSealer | None:
        """Keys from a comma-separated ``"<kid>:<base64>"`` list in the environment.

        Args:
            name: The variable (default ``SPAPS_WEBHOOKS_SEALING_KEYS``).
            environ: Where to read it (default ``os.environ``).

        Returns:
            The sealer, or ``None`` when the variable is unset or empty.
        """
        raw = (os.environ if environ is None else environ).get(name, "")
        keys = [part for part in raw.split(",") if part.strip()]
        return cls(keys) if keys else None

    @property
    def primary_kid(self) -> str:
        """The id of the key new values are sealed under."""
        return self._primary

    @property
    def kids(self) -> tuple[str, ...]:
        """Every configured key id, the sealing one first."""
        return tuple(self._keys)

    def seal(self, secret: str, *, endpoint_id: str) -> str:
        """Seal ``secret`` for the row of ``endpoint_id`` under the first key."""
        nonce = _random.token_bytes(_NONCE_BYTES)
        sealed = self._keys[self._primary].encrypt(
            nonce, secret.encode("utf-8"), _aad(self._primary, endpoint_id)
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{SEALED_PREFIX}{self._primary}:{token}"

    def open(self, value: str, *, endpoint_id: str) -> str:
        """Open a value sealed for ``endpoint_id``; a plaintext (legacy) value passes through.

        Raises:
            SecretSealingError: Unknown key id, a value sealed for another endpoint, or
                a damaged value.
        """
        if not is_sealed(value):
            return value
        kid, _, token = value[len(SEALED_PREFIX) :].partition(":")
        aead = self._keys.get(kid)
        if aead is None:
            raise SecretSealingError(f"no configured sealing key has the id {kid!r}")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(kid, endpoint_id))
        except (InvalidTag, ValueError, binascii.Error):
            raise SecretSealingError(
                f"the secret stored for endpoint {endpoint_id!r} does not open "
                "(sealed for another row, or damaged)"
            ) from None
        return plain.decode("utf-8")

    def needs_reseal(self, value: str) -> bool:
        """Whether ``value`` is plaintext or sealed under a key other than the first."""
        return sealed_kid(value) != self._primary


def seal_value(sealer: SecretSealer | None, secret: str, endpoint_id: str) -> str:
    """``secret`` as stored: sealed when a sealer is configured, else as it is."""
    return secret if sealer is None else sealer.seal(secret, endpoint_id=endpoint_id)


def open_value(sealer: SecretSealer | None, value: str, endpoint_id: str) -> str:
    """The plaintext of a stored ``value``.

    Raises:
        SecretSealingError: The value is sealed but no sealer is configured, or it does
            not open.
    """
    if sealer is None:
        if is_sealed(value):
            raise SecretSealingError(
                "endpoint secrets are sealed but no sealing keys are configured"
            )
        return value
    return sealer.open(value, endpoint_id=endpoint_id)


def open_all(sealer: SecretSealer | None, values: Iterable[str], endpoint_id: str) -> list[str]:
    """Open several stored values of one endpoint."""
    return [open_value(sealer, v, endpoint_id) for v in values]
