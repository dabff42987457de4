"""Access tokens: issuing, verifying, key rotation, and every attack from the issue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from spaps_auth import (
    InvalidTokenError,
    JsonWebKey,
    KeySet,
    TokenExpiredError,
    TokenIssuer,
    TokenVerifier,
)

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": "j1",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key: JsonWebKey, claims: dict[str, object], **headers: object) -> str:
    return jwt.encode(
        claims,
        key.signing_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": "at+jwt", **headers},
    )


def test_issue_and_verify_round_trip(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue(
        "user-1", roles=["writer"], permissions=["x:y"], session_id="s1", extra={"org": "o1"}
    )
    claims = verifier.verify(token)
    assert claims.subject == "user-1"
    assert claims.roles == {"writer"}
    assert claims.permissions == {"x:y"}
    assert claims.session_id == "s1"
    assert claims.audience == (AUDIENCE,)
    assert claims.raw["org"] == "o1"
    assert claims.expires_at - claims.issued_at == 900
    assert jwt.get_unverified_header(token)["kid"] == "ed-1"


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256", "HS256"])
async def test_each_supported_algorithm(algorithm: str) -> None:
    key = JsonWebKey.generate(algorithm, kid=f"k-{algorithm}")
    keys = KeySet([key])
    token = TokenIssuer(keys=keys, issuer=ISSUER, audience=AUDIENCE).issue("u")
    verifier = TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=[algorithm])
    assert (await verifier.averify(token)).subject == "u"


def test_issue_refuses_reserved_extra_claims(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError, match="reserved"):
        issuer.issue("u", extra={"sub": "someone-else"})


def test_rotation_keeps_old_tokens_valid(ed_key: JsonWebKey) -> None:
    old_set = KeySet([ed_key])
    old_token = TokenIssuer(keys=old_set, issuer=ISSUER, audience=AUDIENCE).issue("u")
    new_key = JsonWebKey.generate("EdDSA", kid="ed-2")
    rotated = old_set.rotated(new_key)
    assert rotated.signing_key.kid == "ed-2"
    new_token = TokenIssuer(keys=rotated, issuer=ISSUER, audience=AUDIENCE).issue("u")
    verifier = TokenVerifier(keys=rotated, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA"])
    assert verifier.verify(old_token).subject == "u"
    assert verifier.verify(new_token).subject == "u"
    # Once the old key is dropped its tokens stop verifying.
    dropped = KeySet([new_key])
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        TokenVerifier(keys=dropped, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA"]).verify(
            old_token
        )


def test_jwks_publishes_public_keys_only(ed_key: JsonWebKey, rsa_key: JsonWebKey) -> None:
    hs = JsonWebKey.generate("HS256", kid="hs")
    document = KeySet([ed_key, rsa_key, hs]).jwks()
    kids = {k["kid"] for k in document["keys"]}
    assert kids == {"ed-1", "rsa-1"}
    for entry in document["keys"]:
        assert "d" not in entry
        assert JsonWebKey.from_jwk(entry).can_sign is False


def test_key_type_must_match_algorithm(rsa_key: JsonWebKey) -> None:
    with pytest.raises(TypeError):
        JsonWebKey(kid="x", algorithm="HS256", verifying_key=rsa_key.verifying_key)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JsonWebKey.from_secret(b"short")
    with pytest.raises(ValueError, match="invalid kid"):
        JsonWebKey.generate("EdDSA", kid="../../etc/passwd")


def test_pem_round_trip(rsa_key: JsonWebKey) -> None:
    pem = rsa_key.signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    loaded = JsonWebKey.from_pem(pem, kid="rsa-1")
    assert loaded.algorithm == "RS256"
    assert loaded.can_sign
    public = JsonWebKey.from_pem(
        rsa_key.verifying_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert public.can_sign is False
    assert public.public_jwk()["n"] == rsa_key.public_jwk()["n"]


# --- attacks: each must raise InvalidTokenError (rendered 401 by the integration) -------


def test_alg_none_rejected(verifier: TokenVerifier) -> None:
    header = _b64(json.dumps({"alg": "none", "kid": "ed-1", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    with pytest.raises(InvalidTokenError, match="algorithm not allowed"):
        verifier.verify(f"{header}.{payload}.")


def test_algorithm_confusion_hs256_with_rsa_public_key(rsa_key: JsonWebKey) -> None:
    keys = KeySet([rsa_key])
    # Even with HS256 on the allowlist, the RSA key is bound to RS256.
    verifier = TokenVerifier(
        keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256", "HS256"]
    )
    public_pem = rsa_key.verifying_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "at+jwt"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    signature = _b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidTokenError, match="does not match the key"):
        verifier.verify(f"{header}.{payload}.{signature}")


def test_expired(ed_key: JsonWebKey, verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = _sign(ed_key, _claims(iat=now - 120, nbf=now - 120, exp=now - 60))
    with pytest.raises(TokenExpiredError):
        verifier.verify(token)


def test_not_yet_valid(ed_key: JsonWebKey, verifier: TokenVerifier) -> None:
    now = int(time.time())
    with pytest.raises(InvalidTokenError, match="not yet valid"):
        verifier.verify(_sign(ed_key, _claims(nbf=now + 300, exp=now + 600)))


def test_iat_in_the_future(ed_key: JsonWebKey, verifier: TokenVerifier) -> None:
    now = int(time.time())
    with pytest.raises(InvalidTokenError):
        verifier.verify(_sign(ed_key, _claims(iat=now + 300, exp=now + 600)))


def test_leeway_tolerates_small_skew(ed_key: JsonWebKey, keys: KeySet) -> None:
    now = int(time.time())
    token = _sign(ed_key, _claims(nbf=now + 5, iat=now + 5))
    lenient = TokenVerifier(
        keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA"], leeway=30
    )
    assert lenient.verify(token).subject == "user-1"


@pytest.mark.parametrize(
    ("override", "message"),
    [({"iss": "https://evil.example"}, "wrong issuer"), ({"aud": "other-api"}, "wrong audience")],
)
def test_wrong_issuer_or_audience(
    ed_key: JsonWebKey, verifier: TokenVerifier, override: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidTokenError, match=message):
        verifier.verify(_sign(ed_key, _claims(**override)))


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"])
def test_missing_claims(ed_key: JsonWebKey, verifier: TokenVerifier, claim: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier.verify(_sign(ed_key, _claims(**{claim: None})))


@pytest.mark.parametrize(
    "kid", ["unknown", "../../../etc/passwd", "/dev/null", "a" * 200, 7, None, ""]
)
def test_unknown_or_malformed_kid(ed_key: JsonWebKey, verifier: TokenVerifier, kid: object) -> None:
    # Built by hand: PyJWT refuses to encode a non-string kid.
    header: dict[str, object] = {"alg": "EdDSA", "typ": "at+jwt"}
    if kid is not None:
        header["kid"] = kid
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    token = f"{signing_input}.{_b64(ed_key.signing_key.sign(signing_input.encode()))}"
    with pytest.raises(InvalidTokenError, match="kid"):
        verifier.verify(token)


def test_tampered_payload(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    head, payload, signature = issuer.issue("user-1").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    forged = _b64(json.dumps(claims).encode())
    with pytest.raises(InvalidTokenError, match="invalid token"):
        verifier.verify(f"{head}.{forged}.{signature}")


def test_oversized_token(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("user-1", extra={"blob": "x" * 10_000})
    with pytest.raises(InvalidTokenError, match="too large"):
        verifier.verify(token)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "!!!.x.y", _b64(b"[1,2]") + ".x.y", _b64(b"\xff\xfe") + ".x.y"],
)
def test_garbage_tokens(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier.verify(token)


def test_roles_claim_must_be_list_of_strings(ed_key: JsonWebKey, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidTokenError, match="roles"):
        verifier.verify(_sign(ed_key, _claims(roles="admin")))


def test_verifier_configuration_is_validated(keys: KeySet) -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=[])
    with pytest.raises(ValueError, match="unsupported"):
        TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["none"])
    with pytest.raises(ValueError, match="signing"):
        TokenIssuer(keys=KeySet([next(iter(keys)).public()]), issuer=ISSUER, audience=AUDIENCE)


def test_asymmetric_key_material_is_refused_as_hs256_secret(rsa_key: JsonWebKey) -> None:
    pem = rsa_key.verifying_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="asymmetric"):
        JsonWebKey.from_secret(pem)
