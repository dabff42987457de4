"""Authenticated encryption of messages at rest, with key rotation.

AES-256-GCM (``cryptography``'s ``AESGCM``) with a random 96-bit nonce per message.
Each ciphertext is stored with the id of the key that sealed it, so old keys keep
decrypting after a new primary key is added; ``htma rotate-keys`` re-seals old rows
under the primary key, after which the old key can be removed.

The associated data binds a ciphertext to its row (message id, clinic, sender,
recipient): a ciphertext copied into another row, or a row whose sender is altered,
fails to decrypt instead of showing a forged message. AESGCM is used rather than
``MultiFernet`` for that associated data and for the explicit key ids.

Blob layout: ``b"\\x01" | nonce (12 bytes) | ciphertext+tag``.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from htma.errors import HtmaError

VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class MessageDecryptError(HtmaError):
    """A stored message cannot be decrypted (unknown key, or tampered ciphertext)."""

    status = 500
    code = "htma.message_undecryptable"
    title = "Message cannot be decrypted"


@dataclass(frozen=True, slots=True)
class MessageKey:
    """A 256-bit key with its id.

    Args:
        key_id: 1-32 characters ``[A-Za-z0-9_-]``, stored next to each ciphertext.
        key: 32 random bytes.
    """

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(f"key id {self.key_id!r} must be 1-32 characters [A-Za-z0-9_-]")
        if len(self.key) != KEY_BYTES:
            raise ValueError(f"key {self.key_id!r} must be {KEY_BYTES} bytes, got {len(self.key)}")


def generate_key(key_id: str) -> str:
    """A new key in the settings format ``<key_id>:<urlsafe base64 of 32 bytes>``."""
    MessageKey(key_id, bytes(KEY_BYTES))  # validates the id
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()}"


def parse_keys(text: str) -> list[MessageKey]:
    """Parse ``"k2:<b64>,k1:<b64>"``: comma-separated keys, the first one primary.

    Raises:
        ValueError: malformed entry, bad base64, wrong length or duplicate id.
    """
    keys: list[MessageKey] = []
    for index, entry in enumerate(part.strip() for part in text.split(",") if part.strip()):
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            raise ValueError(f"message key #{index + 1} must look like '<id>:<base64>'")
        try:
            raw = base64.urlsafe_b64decode(encoded.encode())
        except (binascii.Error, ValueError):
            raise ValueError(f"message key {key_id!r} is not valid base64") from None
        keys.append(MessageKey(key_id, raw))
    ids = [k.key_id for k in keys]
    if len(set(ids)) != len(ids):
        raise ValueError("message key ids must be unique")
    return keys


def derive_development_key(secret: str, *, info: bytes = b"htma-messages-v1") -> MessageKey:
    """A deterministic key derived (HKDF-SHA256) from the app secret, for development only
    (``info`` separates the keys of different uses)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info)
    return MessageKey("dev", hkdf.derive(secret.encode()))


class MessageCipher:
    """Seal and open message bodies with the primary key; open with any known key.

    Args:
        keys: the keys, primary first (at least one).
    """

    def __init__(self, *, keys: Sequence[MessageKey]) -> None:
        if not keys:
            raise ValueError("MessageCipher needs at least one key")
        for key in keys:
            if not isinstance(key, MessageKey):
                raise TypeError(f"keys must be MessageKey, got {type(key).__name__}")
        self._primary = keys[0]
        self._by_id = {k.key_id: AESGCM(k.key) for k in keys}
        if len(self._by_id) != len(keys):
            raise ValueError("message key ids must be unique")

    @property
    def primary_key_id(self) -> str:
        """Id of the key new messages are sealed with."""
        return self._primary.key_id

    def encrypt(self, plaintext: str, *, aad: bytes) -> tuple[str, bytes]:
        """Seal ``plaintext``; returns ``(key_id, blob)`` to store.

        Args:
            plaintext: the message body.
            aad: associated data binding the blob to its row (see :func:`message_aad`).
        """
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._by_id[self._primary.key_id].encrypt(nonce, plaintext.encode(), VERSION + aad)
        return self._primary.key_id, VERSION + nonce + sealed

    def decrypt(self, key_id: str, blob: bytes, *, aad: bytes) -> str:
        """Open a stored blob.

        Raises:
            MessageDecryptError: unknown key id, unknown format, or authentication failed.
        """
        cipher = self._by_id.get(key_id)
        if cipher is None:
            raise MessageDecryptError(f"no key {key_id!r} is configured")
        if blob[:1] != VERSION or len(blob) < 1 + NONCE_BYTES + 16:
            raise MessageDecryptError("unknown ciphertext format")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, sealed, VERSION + aad).decode()
        except InvalidTag:
            raise MessageDecryptError("ciphertext failed authentication") from None

    def needs_rotation(self, key_id: str) -> bool:
        """Whether a blob sealed with ``key_id`` should be re-sealed under the primary key."""
        return key_id != self._primary.key_id

    def rotate(self, key_id: str, blob: bytes, *, aad: bytes) -> tuple[str, bytes]:
        """Re-seal a blob under the primary key (a new nonce); returns ``(key_id, blob)``."""
        return self.encrypt(self.decrypt(key_id, blob, aad=aad), aad=aad)


def message_aad(*, message_id: str, clinic: str, sender_id: str, recipient_id: str) -> bytes:
    """Associated data of a message row: ids joined with a separator none of them contains."""
    parts = (message_id, clinic, sender_id, recipient_id)
    if any("\x1f" in part for part in parts):
        raise ValueError("ids must not contain the unit separator")
    return "\x1f".join(parts).encode()
