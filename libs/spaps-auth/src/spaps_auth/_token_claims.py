"""The claims of an access token: strict decoding, the registered claims, ``TokenClaims``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import TokenExpiredError
from ._jose import DuplicateMemberError, bad, loads_strict
from ._tokens import TokenClaims

__all__ = ["ClaimChecks", "decode_claims", "token_claims"]

_EMPTY: frozenset[str] = frozenset()
_MISSING = object()


def decode_claims(payload: bytes) -> dict[str, Any]:
    """The claims of a verified payload: a JSON object without duplicate names."""
    try:
        claims = loads_strict(payload)
    except DuplicateMemberError:
        raise bad("duplicate claim names") from None
    except (ValueError, RecursionError):
        raise bad("invalid token") from None
    if not isinstance(claims, dict):
        raise bad("invalid token")
    return claims


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """``claims[name]`` as whole seconds, ``None`` when absent.

    RFC 7519 NumericDate is a JSON number: a string, a boolean or ``null`` is refused
    (``int()`` would accept ``"1700000000"`` and ``true``).
    """
    value = claims.get(name, _MISSING)
    if type(value) is int:
        return value
    if value is _MISSING:
        return None
    if type(value) is float and math.isfinite(value):
        return int(value)  # whole seconds, as the comparisons have always been made
    raise bad(f"claim {name} must be a number")


class ClaimChecks:
    """The registered-claim checks of one verifier, made with its clock and leeway.

    Args:
        issuer: Required ``iss``.
        audience: Accepted ``aud`` value(s); a token must name at least one.
        leeway: Clock skew tolerated on ``exp``/``nbf``/``iat`` (seconds).
        required: Claims that must be present and not ``null``.
    """

    __slots__ = ("_audience", "_issuer", "_leeway", "_required")

    def __init__(
        self, *, issuer: str, audience: str | Sequence[str], leeway: float, required: Sequence[str]
    ) -> None:
        self._issuer = issuer
        self._audience = (audience,) if isinstance(audience, str) else tuple(audience)
        self._leeway = leeway
        self._required = tuple(required)

    def check(self, claims: Mapping[str, Any], now: float) -> tuple[float, float]:
        """Check ``claims`` at time ``now``.

        Returns:
            ``(valid_from, expires)``: the later of ``iat``/``nbf`` and ``exp``, or
            -inf/+inf for an absent claim; the verified-token cache re-checks them.

        Raises:
            InvalidTokenError: A check failed (``TokenExpiredError`` when expired).
        """
        for name in self._required:
            if claims.get(name) is None:
                raise bad(f"missing claim {name}")
        iat = _numeric_date(claims, "iat")
        nbf = _numeric_date(claims, "nbf")
        exp = _numeric_date(claims, "exp")
        if iat is None:
            valid_from = -math.inf if nbf is None else nbf
        else:
            valid_from = iat if nbf is None or iat > nbf else nbf
        expires = math.inf if exp is None else exp
        if valid_from > now + self._leeway:
            raise bad("token not yet valid")
        if expires <= now - self._leeway:
            raise TokenExpiredError("token expired")
        self._check_issuer(claims)
        self._check_audience(claims)
        return valid_from, expires

    def _check_issuer(self, claims: Mapping[str, Any]) -> None:
        if "iss" not in claims:
            raise bad("missing claim iss")
        if claims["iss"] != self._issuer:
            raise bad("wrong issuer")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        aud = claims.get("aud")
        if not aud:
            raise bad("missing claim aud")
        if isinstance(aud, str):
            aud = [aud]
        if not isinstance(aud, list) or not all(isinstance(a, str) for a in aud):
            raise bad("wrong audience")
        if all(accepted not in aud for accepted in self._audience):
            raise bad("wrong audience")


def _strings(value: object, name: str) -> frozenset[str]:
    if value is None:
        return _EMPTY
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(f"claim {name} must be a list of strings")
    return frozenset(value)


def token_claims(claims: dict[str, Any]) -> TokenClaims:
    """The :class:`TokenClaims` of checked claims (``sub``, ``jti``, ``sid`` typed here)."""
    sub, jti, sid = claims.get("sub"), claims.get("jti"), claims.get("sid")
    if not isinstance(sub, str) or not sub or not isinstance(jti, str) or not jti:
        raise bad("sub and jti must be non-empty strings")
    if sid is not None and not isinstance(sid, str):
        raise bad("sid must be a string")
    aud = claims.get("aud")
    return TokenClaims(
        subject=sub,
        issuer=claims.get("iss", ""),
        audience=(aud,) if isinstance(aud, str) else tuple(aud or ()),
        token_id=jti,
        issued_at=int(claims.get("iat", 0)),
        expires_at=int(claims.get("exp", 0)),
        session_id=sid,
        roles=_strings(claims.get("roles"), "roles"),
        permissions=_strings(claims.get("permissions"), "permissions"),
        raw=claims,
    )
