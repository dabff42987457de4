"""The JOSE layer of access tokens: strict JSON, header checks and the signature check.

Signatures are checked by a ``jwt.PyJWS`` of the verifier's own, built with PyJWT's
public constructor and ``register_algorithm``; the claims are checked separately
(``_token_claims``), so PyJWT's claim validation is not involved.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any, NoReturn

import jwt
from jwt.algorithms import HMACAlgorithm

from ._errors import InvalidTokenError
from ._keys import valid_kid

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "DuplicateMemberError",
    "bad",
    "loads_strict",
    "parse_header",
    "signature_verifier",
]

# RFC 9068 section 2.1: access tokens carry ``typ: at+jwt``; section 4: resource servers
# reject any other value. The media-type form is equivalent, and media types compare
# case-insensitively.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JWT media type, not a secret
_ACCESS_TOKEN_TYPES = frozenset({ACCESS_TOKEN_TYPE, "application/at+jwt"})


def bad(detail: str) -> InvalidTokenError:
    """The error every failed check raises (rendered as a 401 by the integration)."""
    return InvalidTokenError(detail)


class DuplicateMemberError(ValueError):
    """A JSON object names the same member twice."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise DuplicateMemberError("duplicate member name")
    return members


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# Built once: ``json.loads`` with hooks would build a decoder (and its scanner) per call.
_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members, parse_constant=_no_constant)


def loads_strict(data: bytes) -> Any:
    """Parse UTF-8 JSON, refusing duplicate member names (in any object) and the
    non-standard ``NaN``/``Infinity`` literals Python accepts by default.

    RFC 7519 section 4 lets a parser either reject duplicate claim names or keep the last
    one; keeping the last (what ``json.loads`` does) lets two parsers of one token see
    two different claim sets, so they are rejected.

    Raises:
        DuplicateMemberError: A member name repeats.
        ValueError: Not UTF-8 JSON.
    """
    return _STRICT_DECODER.decode(data.decode("utf-8"))


def parse_header(head: str, algorithms: frozenset[str]) -> tuple[str, str]:
    """Check the (still unverified) header segment; return its ``alg`` and ``kid``.

    The header must be a JSON object without duplicate names, with an allowed ``alg``, a
    safe ``kid`` and ``typ: at+jwt``.
    """
    try:
        header = loads_strict(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except DuplicateMemberError:
        raise bad("duplicate header parameter names") from None
    except (ValueError, binascii.Error, RecursionError):
        raise bad("malformed token header") from None
    if not isinstance(header, dict):
        raise bad("malformed token header")
    alg = header.get("alg")
    if alg not in algorithms:
        raise bad("algorithm not allowed")
    kid = header.get("kid")
    if not valid_kid(kid):
        raise bad("missing or malformed kid")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPES:
        raise bad("not an access token (typ must be at+jwt)")
    return str(alg), str(kid)


class _ValidatedHMAC(HMACAlgorithm):
    """HS256 whose secret was validated once, when its :class:`JsonWebKey` was built.

    PyJWT's stock ``prepare_key`` re-parses the secret as PEM, SSH and three DER forms on
    every verification; a verifier only ever hands it secrets bound to HS256 keys, whose
    constructor already ran that very check.
    """

    def prepare_key(self, key: str | bytes) -> bytes:
        if not isinstance(key, bytes):
            raise jwt.InvalidKeyError("HS256 keys are bytes")
        return key


def signature_verifier(algorithms: Iterable[str]) -> jwt.PyJWS:
    """A ``PyJWS`` that knows exactly ``algorithms``, with the validated-secret HS256."""
    allowed = set(algorithms)
    jws = jwt.PyJWS(algorithms=sorted(allowed - {"HS256"}))
    if "HS256" in allowed:
        jws.register_algorithm("HS256", _ValidatedHMAC(HMACAlgorithm.SHA256))
    return jws
