"""Token signing keys on disk: a JSON file of Ed25519 private keys, newest first.

The newest key signs; the others keep verifying (and stay in the JWKS) so that tokens
signed before a rotation remain valid until they expire. The file is written atomically
with mode 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from spaps_auth import JsonWebKey, KeySet

#: keys kept after a rotation besides the new one
KEEP_OLD_KEYS = 2


class SigningKeyStore:
    """Load, create and rotate the signing keys kept in ``path``.

    Args:
        path: the JSON key file (created with one key when missing).
    """

    def __init__(self, path: Path) -> None:
        if not isinstance(path, Path):
            raise TypeError("path must be a pathlib.Path")
        self.path = path

    def load(self) -> KeySet:
        """The key set (newest key signs); creates the file with a first key when missing.

        Raises:
            ValueError: the file exists but is not a valid key file.
        """
        if not self.path.exists():
            # Processes starting together (server, worker, beat) must agree on one key:
            # only the first creation counts, the others read what it wrote.
            self._write([self._new_key()], exclusive=True)
        return KeySet(self._read())

    def rotate(self, *, keep: int = KEEP_OLD_KEYS) -> JsonWebKey:
        """Add a new signing key, keep at most ``keep`` older ones; returns the new key."""
        keys = self._read() if self.path.exists() else []
        new = self._new_key()
        self._write([new, *keys[:keep]])
        return new

    @staticmethod
    def _new_key() -> JsonWebKey:
        kid = datetime.now(UTC).strftime("htma-%Y%m%d%H%M%S-") + os.urandom(3).hex()
        return JsonWebKey.generate("EdDSA", kid=kid)

    def _read(self) -> list[JsonWebKey]:
        try:
            document = json.loads(self.path.read_text("utf-8"))
            entries = document["keys"]
            keys = [JsonWebKey.from_pem(e["pem"].encode(), kid=e["kid"]) for e in entries]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{self.path} is not a valid signing key file: {exc}") from exc
        if not keys:
            raise ValueError(f"{self.path} holds no key")
        return keys

    def _write(self, keys: list[JsonWebKey], *, exclusive: bool = False) -> None:
        entries = [
            {
                "kid": key.kid,
                "pem": key.signing_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
            }
            for key in keys
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"keys": entries}, handle, indent=1)
            os.chmod(tmp, 0o600)
            if exclusive:
                try:
                    os.link(tmp, self.path)  # atomic, and fails if the file exists
                except FileExistsError:
                    pass  # another process created it first: its key is the key
                finally:
                    Path(tmp).unlink(missing_ok=True)
            else:
                os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
