"""Keys bound to one algorithm each, and key sets with a signing key and a ``kid`` index."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import HMACAlgorithm

__all__ = ["JsonWebKey", "KeySet", "SUPPORTED_ALGORITHMS", "valid_kid"]

SUPPORTED_ALGORITHMS: frozenset[str] = frozenset({"RS256", "EdDSA", "HS256"})
_KID_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")

# Which key object types may be used with which algorithm. Binding every key to one
# algorithm and checking the type here is what makes algorithm confusion impossible:
# an RSA public key can never be handed to the HMAC verifier, whatever the header says.
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
    "EdDSA": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
    "HS256": (bytes,),
}


def valid_kid(kid: object) -> bool:
    """Whether ``kid`` is a safe key id (letters, digits, ``.``, ``_``, ``-``; no paths)."""
    return isinstance(kid, str) and bool(_KID_RE.match(kid)) and ".." not in kid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _thumbprint(jwk: Mapping[str, str]) -> str:
    # RFC 7638 thumbprint over the required members, used as the default kid.
    required = {"RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}
    members = {name: jwk[name] for name in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())[:16]


@dataclass(frozen=True, eq=False)
class JsonWebKey:
    """One key bound to exactly one algorithm.

    Build with :meth:`generate`, :meth:`from_secret`, :meth:`from_pem` or
    :meth:`from_jwk`. ``signing_key`` is ``None`` for verification-only (public) keys.

    Args:
        kid: Key id placed in token headers.
        algorithm: ``"RS256"``, ``"EdDSA"`` or ``"HS256"``.
        verifying_key: Key object used for verification (public key or HMAC secret).
        signing_key: Key object used for signing (private key or HMAC secret), if any.

    .. versionadded:: 0.1.0
    """

    kid: str
    algorithm: str
    verifying_key: Any = field(repr=False)
    signing_key: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not valid_kid(self.kid):
            raise ValueError(f"invalid kid {self.kid!r}")
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported algorithm {self.algorithm!r}")
        allowed = _KEY_TYPES[self.algorithm]
        for key in (self.verifying_key, self.signing_key):
            if key is not None and not isinstance(key, allowed):
                raise TypeError(f"{type(key).__name__} cannot be used with {self.algorithm}")
        if self.algorithm == "HS256":
            if len(self.verifying_key) < 32:
                raise ValueError("HS256 secrets must be at least 32 bytes")
            # Refuse PEM/SSH/DER key material as a shared secret (the classic algorithm-
            # confusion set-up). Checked once here, so verification need not repeat it.
            try:
                HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(self.verifying_key)
            except jwt.InvalidKeyError:
                raise ValueError("an asymmetric key cannot be used as an HS256 secret") from None

    @property
    def can_sign(self) -> bool:
        """Whether this key holds private (or secret) material."""
        return self.signing_key is not None

    @property
    def is_symmetric(self) -> bool:
        """Whether this is a shared-secret (HS256) key, never published in a JWKS."""
        return self.algorithm == "HS256"

    @classmethod
    def generate(cls, algorithm: str = "EdDSA", *, kid: str | None = None) -> JsonWebKey:
        """Create a fresh key pair (or secret) for ``algorithm``.

        Args:
            algorithm: ``"EdDSA"`` (default), ``"RS256"`` (2048-bit) or ``"HS256"``.
            kid: Key id; defaults to the RFC 7638 thumbprint prefix.
        """
        if algorithm == "EdDSA":
            private: Any = ed25519.Ed25519PrivateKey.generate()
            return cls._asymmetric(algorithm, private, kid)
        if algorithm == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return cls._asymmetric(algorithm, private, kid)
        if algorithm == "HS256":
            return cls.from_secret(secrets.token_bytes(32), kid=kid)
        raise ValueError(f"unsupported algorithm {algorithm!r}")

    @classmethod
    def _asymmetric(cls, algorithm: str, private: Any, kid: str | None) -> JsonWebKey:
        public = private.public_key()
        if kid is None:
            probe = cls(kid="probe", algorithm=algorithm, verifying_key=public)
            kid = _thumbprint(probe.public_jwk())
        return cls(kid=kid, algorithm=algorithm, verifying_key=public, signing_key=private)

    @classmethod
    def from_secret(cls, secret: bytes, *, kid: str | None = None) -> JsonWebKey:
        """An HS256 key from a shared secret of at least 32 bytes."""
        if not isinstance(secret, bytes):
            raise TypeError("secret must be bytes")
        if kid is None:
            kid = _thumbprint({"kty": "oct", "k": _b64(secret)})
        return cls(kid=kid, algorithm="HS256", verifying_key=secret, signing_key=secret)

    @classmethod
    def from_pem(cls, pem: bytes, *, kid: str | None = None) -> JsonWebKey:
        """A key from a PEM private or public key (RSA -> RS256, Ed25519 -> EdDSA)."""
        key: Any
        if b"PRIVATE KEY" in pem:
            key = serialization.load_pem_private_key(pem, password=None)
            algorithm = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "EdDSA"
            return cls._asymmetric(algorithm, key, kid)
        key = serialization.load_pem_public_key(pem)
        algorithm = "RS256" if isinstance(key, rsa.RSAPublicKey) else "EdDSA"
        if kid is None:
            kid = _thumbprint(cls(kid="probe", algorithm=algorithm, verifying_key=key).public_jwk())
        return cls(kid=kid, algorithm=algorithm, verifying_key=key)

    @classmethod
    def from_jwk(cls, data: Mapping[str, Any]) -> JsonWebKey:
        """A verification key from a public JWK (``kty`` RSA or OKP/Ed25519, with ``kid``).

        Raises:
            ValueError: The JWK is malformed, symmetric, or its ``alg`` does not match its type.
        """
        kid = data.get("kid")
        if not valid_kid(kid):
            raise ValueError(f"JWK has an invalid kid {kid!r}")
        kty = data.get("kty")
        if kty == "RSA":
            algorithm = "RS256"
        elif kty == "OKP" and data.get("crv") == "Ed25519":
            algorithm = "EdDSA"
        else:
            raise ValueError(f"unsupported JWK type {kty!r}")
        if data.get("alg", algorithm) != algorithm:
            raise ValueError(f"JWK alg {data.get('alg')!r} does not match its key type")
        if "d" in data:
            raise ValueError("refusing a JWK with private material")
        try:
            parsed = jwt.PyJWK.from_dict(dict(data), algorithm=algorithm)
        except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError) as exc:
            raise ValueError(f"malformed JWK: {exc}") from exc
        return cls(kid=str(kid), algorithm=algorithm, verifying_key=parsed.key)

    def public_jwk(self) -> dict[str, str]:
        """The public JWK (with ``kid``, ``alg``, ``use``); raises for symmetric keys."""
        if self.algorithm == "HS256":
            raise ValueError("symmetric keys have no public JWK")
        if self.algorithm == "RS256":
            numbers = self.verifying_key.public_numbers()
            n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
            e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
            jwk = {"kty": "RSA", "n": _b64(n), "e": _b64(e)}
        else:
            raw = self.verifying_key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def public(self) -> JsonWebKey:
        """This key without its private half (symmetric keys are returned unchanged)."""
        if self.is_symmetric:
            return self
        return JsonWebKey(kid=self.kid, algorithm=self.algorithm, verifying_key=self.verifying_key)


class KeySet:
    """Keys by ``kid``: one signs, all verify (rotation without logging anyone out).

    Rotate by building a new set with the new key signing and the old key still listed;
    drop the old key once every token it signed has expired.

    Args:
        keys: The keys; kids must be unique.
        signing_kid: Which key signs; default the first key that can sign.

    .. versionadded:: 0.1.0
    """

    def __init__(self, keys: Iterable[JsonWebKey], *, signing_kid: str | None = None) -> None:
        self._keys: dict[str, JsonWebKey] = {}
        for key in keys:
            if not isinstance(key, JsonWebKey):
                raise TypeError(f"expected JsonWebKey, got {type(key).__name__}")
            if key.kid in self._keys:
                raise ValueError(f"duplicate kid {key.kid!r}")
            self._keys[key.kid] = key
        if signing_kid is None:
            signing_kid = next((k.kid for k in self._keys.values() if k.can_sign), None)
        if signing_kid is not None:
            chosen = self._keys.get(signing_kid)
            if chosen is None or not chosen.can_sign:
                raise ValueError(f"signing_kid {signing_kid!r} is not a key that can sign")
        self._signing_kid = signing_kid

    @property
    def signing_key(self) -> JsonWebKey:
        """The key new tokens are signed with."""
        if self._signing_kid is None:
            raise ValueError("this key set has no signing key (verification only)")
        return self._keys[self._signing_kid]

    def get(self, kid: str) -> JsonWebKey | None:
        """The key with this ``kid``, or ``None``."""
        return self._keys.get(kid)

    def __iter__(self) -> Any:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def rotated(self, new_key: JsonWebKey, *, keep: int = 2) -> KeySet:
        """A new set where ``new_key`` signs and at most ``keep`` older keys still verify."""
        if keep < 0:
            raise ValueError("keep must be >= 0")
        older = [k for k in self._keys.values() if k.kid != new_key.kid]
        older = older[:keep]
        return KeySet([new_key, *older], signing_kid=new_key.kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS document (symmetric keys are never published)."""
        return {"keys": [k.public_jwk() for k in self._keys.values() if not k.is_symmetric]}
