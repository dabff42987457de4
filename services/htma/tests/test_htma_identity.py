"""Sign-up, login with lockout, refresh rotation, JWKS, TOTP MFA."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pyotp
import pytest

PASSWORD = "correct horse battery staple"


async def _signup(client: Any, clinic_id: str = "northside", **overrides: str) -> Any:
    body = {
        "clinic_id": clinic_id, "clinic_name": "Northside", "email": f"admin@{clinic_id}.example",
        "password": PASSWORD, "display_name": "Nora", **overrides,
    }  # fmt: skip
    return await client.http.post("/v1/auth/signup", json=body)


async def test_signup_creates_a_clinic_and_its_lab_admin(client: Any) -> None:
    response = await _signup(client)
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["role"] == "lab_admin"
    assert body["user"]["clinic_id"] == "northside"
    headers = {"Authorization": f"Bearer {body['tokens']['access_token']}"}
    me = await client.http.get("/v1/me", headers=headers)
    assert me.json()["email"] == "admin@northside.example"


async def test_signup_conflicts_and_policy(client: Any) -> None:
    assert (await _signup(client)).status_code == 201
    again = await _signup(client, email="other@northside.example")
    assert again.status_code == 409
    assert again.json()["code"] == "htma.conflict"
    taken = await _signup(client, clinic_id="southside", email="admin@northside.example")
    assert taken.status_code == 409
    weak = await _signup(client, clinic_id="westside", password="password")
    assert weak.status_code == 422
    assert weak.headers["content-type"] == "application/problem+json"
    assert weak.json()["code"].startswith("auth.")
    bad_slug = await _signup(client, clinic_id="Not A Slug")
    assert bad_slug.status_code == 422


async def test_tokens_verify_against_the_published_jwks(client: Any) -> None:
    tokens = (await _signup(client)).json()["tokens"]
    jwks = (await client.http.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(tokens["access_token"])
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(
        tokens["access_token"],
        jwt.PyJWK.from_dict(key).key,
        algorithms=["EdDSA"],
        audience="spaps",
        issuer="htma",
    )
    assert claims["clinic"] == "northside"
    assert claims["roles"] == ["lab_admin"]


async def test_wrong_password_then_lockout(client: Any) -> None:
    await _signup(client)
    for _ in range(5):
        wrong = await client.login("admin@northside.example", "not the password at all")
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "auth.invalid_credentials"
    locked = await client.login("admin@northside.example")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    unknown = await client.login("nobody@nowhere.example")
    assert unknown.status_code == 401


async def test_refresh_rotation_detects_reuse(client: Any) -> None:
    await _signup(client)
    tokens = (await client.login("admin@northside.example")).json()
    first = tokens["refresh_token"]
    rotated = await client.http.post("/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    newest = await client.http.post("/v1/auth/refresh", json={"refresh_token": second})
    assert newest.status_code == 200
    # A token two generations old presented again is reuse, whatever grace window spaps-auth
    # gives a token just rotated (two tabs): the whole family is revoked.
    reused = await client.http.post("/v1/auth/refresh", json={"refresh_token": first})
    assert reused.json()["code"] == "auth.refresh_token_reused"
    after = await client.http.post(
        "/v1/auth/refresh", json={"refresh_token": newest.json()["refresh_token"]}
    )
    assert after.status_code == 401


async def test_sessions_are_listed_and_claims_survive_refresh(client: Any) -> None:
    await _signup(client)
    tokens = (await client.login("admin@northside.example")).json()
    new = (
        await client.http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()
    headers = {"Authorization": f"Bearer {new['access_token']}"}
    assert (await client.http.get("/v1/me", headers=headers)).status_code == 200
    sessions = (await client.http.get("/v1/auth/sessions", headers=headers)).json()
    assert len(sessions) == 2  # sign-up session and login session


async def test_totp_enrolment_then_login_requires_a_code(client: Any) -> None:
    await _signup(client)
    headers = await client.bearer("admin@northside.example")
    enrolment = (await client.http.post("/v1/auth/mfa/totp", headers=headers)).json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = await client.http.post(
        "/v1/auth/mfa/totp/confirm", headers=headers, json={"code": totp.now()}
    )
    assert confirmed.status_code == 200
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10
    missing = await client.login("admin@northside.example")
    assert missing.status_code == 401
    assert missing.json()["code"] == "htma.mfa_required"
    wrong = await client.login("admin@northside.example", otp="000000")
    assert wrong.json()["code"] == "auth.invalid_otp"
    # The confirmation used the current step: the next login needs a newer code.
    later = totp.at(time.time() + 30)
    assert (await client.login("admin@northside.example", otp=later)).status_code == 200


async def test_unauthenticated_and_forbidden(client: Any) -> None:
    assert (await client.http.get("/v1/me")).status_code == 401
    clinic = await client.clinic("northside")
    denied = await client.http.post(
        "/v1/users",
        headers=clinic.practitioner,
        json={"email": "x@northside.example", "password": PASSWORD, "display_name": "X",
              "role": "patient"},
    )  # fmt: skip
    assert denied.status_code == 403
    assert denied.json()["code"] == "auth.forbidden"


@pytest.mark.parametrize("path", ["/v1/me", "/v1/panels", "/v1/messages", "/v1/users"])
async def test_a_token_from_another_issuer_is_refused(client: Any, path: str) -> None:
    forged = jwt.encode({"sub": "x", "clinic": "northside"}, "k" * 32, algorithm="HS256")
    response = await client.http.get(path, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
