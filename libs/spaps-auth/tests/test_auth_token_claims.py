"""Strict access-token parsing (RFC 7519, RFC 9068): duplicate names, NumericDate, ``typ``.

Tokens here are signed by hand over exact JSON text, so the verifier sees what an
attacker holding a signing key (or a buggy issuer) could send; the signatures are valid.
"""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from spaps_auth import InvalidTokenError, JsonWebKey, KeySet, TokenIssuer, TokenVerifier

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"
NOW = 1_700_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(key: JsonWebKey, header: str, payload: str) -> str:
    signing_input = f"{_b64(header.encode())}.{_b64(payload.encode())}"
    return f"{signing_input}.{_b64(key.signing_key.sign(signing_input.encode()))}"


def _header(**overrides: object) -> str:
    header: dict[str, object] = {"alg": "EdDSA", "kid": "ed-1", "typ": "at+jwt"}
    header.update(overrides)
    return json.dumps({k: v for k, v in header.items() if v is not None})


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 60,
        "jti": "j1",
    }
    claims.update(overrides)
    return claims


@pytest.fixture
def strict(keys: KeySet) -> TokenVerifier:
    return TokenVerifier(
        keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA"], clock=lambda: NOW
    )


def test_a_well_formed_token_verifies(ed_key: JsonWebKey, strict: TokenVerifier) -> None:
    # The baseline every test below departs from by one detail.
    assert strict.verify(_signed(ed_key, _header(), json.dumps(_claims()))).subject == "user-1"


# --- duplicate names ------------------------------------------------------------------


def test_duplicate_claim_names_are_rejected(ed_key: JsonWebKey, strict: TokenVerifier) -> None:
    payload = json.dumps(_claims())[:-1] + ', "sub": "admin"}'
    token = _signed(ed_key, _header(), payload)
    # A parser that keeps the last name (PyJWT, json.loads) would read another subject.
    kept_last = jwt.decode(
        token,
        ed_key.verifying_key,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        options={"verify_exp": False},
    )
    assert kept_last["sub"] == "admin"
    with pytest.raises(InvalidTokenError, match="duplicate claim names"):
        strict.verify(token)


def test_duplicate_names_in_a_nested_claim_are_rejected(
    ed_key: JsonWebKey, strict: TokenVerifier
) -> None:
    payload = json.dumps(_claims())[:-1] + ', "org": {"id": "o1", "id": "o2"}}'
    with pytest.raises(InvalidTokenError, match="duplicate claim names"):
        strict.verify(_signed(ed_key, _header(), payload))


def test_duplicate_header_parameters_are_rejected(
    ed_key: JsonWebKey, strict: TokenVerifier
) -> None:
    header = _header()[:-1] + ', "alg": "EdDSA"}'
    with pytest.raises(InvalidTokenError, match="duplicate header"):
        strict.verify(_signed(ed_key, header, json.dumps(_claims())))


# --- NumericDate ----------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"1700000060"', "must be a number"),
        ("true", "must be a number"),
        ("[1700000060]", "must be a number"),
        ('{"t": 1700000060}', "must be a number"),
        ("1e400", "must be a number"),  # parses as an infinite float
        ("NaN", "invalid token"),  # not JSON, though Python's json accepts it
        ("Infinity", "invalid token"),
    ],
    ids=["string", "boolean", "array", "object", "overflow", "NaN", "Infinity"],
)
def test_time_claims_must_be_numbers(
    ed_key: JsonWebKey, strict: TokenVerifier, claim: str, value: str, message: str
) -> None:
    claims = _claims()
    del claims[claim]
    payload = json.dumps(claims)[:-1] + f', "{claim}": {value}}}'
    with pytest.raises(InvalidTokenError, match=message):
        strict.verify(_signed(ed_key, _header(), payload))


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_numeric_string_is_not_a_time_even_when_optional(
    ed_key: JsonWebKey, keys: KeySet, claim: str
) -> None:
    verifier = TokenVerifier(
        keys=keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["EdDSA"],
        required_claims=("sub", "jti"),
        clock=lambda: NOW,
    )
    token = _signed(ed_key, _header(), json.dumps(_claims(**{claim: str(NOW)})))
    with pytest.raises(InvalidTokenError, match=f"claim {claim} must be a number"):
        verifier.verify(token)
    null = _signed(ed_key, _header(), json.dumps(_claims(**{claim: None})))
    with pytest.raises(InvalidTokenError, match=f"claim {claim} must be a number"):
        verifier.verify(null)


def test_fractional_times_are_numbers(ed_key: JsonWebKey, strict: TokenVerifier) -> None:
    claims = _claims(iat=NOW + 0.25, nbf=NOW + 0.25, exp=NOW + 60.75)  # whole seconds count
    verified = strict.verify(_signed(ed_key, _header(), json.dumps(claims)))
    assert (verified.issued_at, verified.expires_at) == (NOW, NOW + 60)


# --- typ (RFC 9068) -------------------------------------------------------------------


def test_issued_tokens_are_typed_access_tokens(issuer: TokenIssuer) -> None:
    assert jwt.get_unverified_header(issuer.issue("user-1"))["typ"] == "at+jwt"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
def test_access_token_types_are_accepted(
    ed_key: JsonWebKey, strict: TokenVerifier, typ: str
) -> None:
    token = _signed(ed_key, _header(typ=typ), json.dumps(_claims()))
    assert strict.verify(token).subject == "user-1"


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "refresh+jwt", "at+jwt ", 1])
def test_other_token_types_are_rejected(
    ed_key: JsonWebKey, strict: TokenVerifier, typ: object
) -> None:
    # A JWT of another kind signed with the same key (an ID token, a refresh or reset
    # token) must not pass for an access token.
    token = _signed(ed_key, _header(typ=typ), json.dumps(_claims()))
    with pytest.raises(InvalidTokenError, match="not an access token"):
        strict.verify(token)
