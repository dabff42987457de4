"""Clinic invitations, password reset by e-mailed link, and the open sign-up setting, over
HTTP: single use, expiry (a settable clock), links for another address or clinic."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest
from htma import Settings

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "an entirely new passphrase"


async def _admin(client: Any, clinic: str = "northside") -> dict[str, str]:
    body = {"clinic_id": clinic, "clinic_name": clinic.title(), "email": f"admin@{clinic}.example",
            "password": PASSWORD, "display_name": "Admin"}  # fmt: skip
    response = await client.http.post("/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['tokens']['access_token']}"}


def _token(client: Any, address: str) -> str:
    match = re.search(r"token=([^\s&]+)", client.mail.last_to(address).text)
    assert match is not None
    return unquote(match.group(1))


async def _invite(client: Any, admin: dict[str, str], email: str, role: str = "patient") -> Any:
    return await client.http.post(
        "/v1/clinic/invitations", headers=admin, json={"email": email, "role": role}
    )


async def _accept(client: Any, token: str, email: str) -> Any:
    return await client.http.post(
        "/v1/auth/invitations/accept",
        json={"token": token, "email": email, "password": PASSWORD, "display_name": "Pat"},
    )


async def test_an_invitation_creates_the_user_in_the_inviting_clinic_once(client: Any) -> None:
    admin = await _admin(client)
    sent = await _invite(client, admin, "Pat@Northside.example", "practitioner")
    assert sent.status_code == 201, sent.text
    assert sent.json()["email"] == "pat@northside.example"
    assert "token" not in sent.text  # the link goes to the invitee only
    token = _token(client, "pat@northside.example")
    joined = await _accept(client, token, "pat@northside.example")
    assert joined.status_code == 201, joined.text
    user = joined.json()["user"]
    assert (user["clinic_id"], user["role"]) == ("northside", "practitioner")
    bearer = {"Authorization": f"Bearer {joined.json()['tokens']['access_token']}"}
    assert (await client.http.get("/v1/me", headers=bearer)).json()["id"] == user["id"]
    again = await _accept(client, token, "pat@northside.example")
    assert again.status_code == 410
    assert again.json()["code"] == "auth.invalid_invitation"
    assert (await client.login("pat@northside.example")).status_code == 200


async def test_an_expired_or_superseded_invitation_is_refused(client: Any) -> None:
    admin = await _admin(client)
    await _invite(client, admin, "late@northside.example")
    expired = _token(client, "late@northside.example")
    client.clock.advance(days=7, seconds=1)
    assert (await _accept(client, expired, "late@northside.example")).status_code == 410
    await _invite(client, admin, "twice@northside.example")
    first = _token(client, "twice@northside.example")
    await _invite(client, admin, "twice@northside.example")
    second = _token(client, "twice@northside.example")
    assert (await _accept(client, first, "twice@northside.example")).status_code == 410
    assert (await _accept(client, second, "twice@northside.example")).status_code == 201


async def test_an_invitation_for_another_address_or_clinic_gives_nothing_else(
    client: Any,
) -> None:
    north = await _admin(client, "northside")
    south = await _admin(client, "southside")
    await _invite(client, south, "sam@southside.example")
    token = _token(client, "sam@southside.example")
    other = await _accept(client, token, "eve@evil.example")
    assert other.status_code == 410  # another address: refused, the invitation unused
    weak = await client.http.post(
        "/v1/auth/invitations/accept",
        json={"token": token, "email": "sam@southside.example", "password": "password",
              "display_name": "Sam"},
    )  # fmt: skip
    assert weak.status_code == 422  # refused before the invitation is used
    joined = await _accept(client, token, "sam@southside.example")
    assert joined.status_code == 201
    assert joined.json()["user"]["clinic_id"] == "southside"
    north_users = (await client.http.get("/v1/users", headers=north)).json()
    assert "sam@southside.example" not in {u["email"] for u in north_users}
    # An invitation token is no password-reset token.
    reset = await client.http.post(
        "/v1/auth/password/reset/confirm",
        json={"email": "sam@southside.example", "token": token, "password": NEW_PASSWORD},
    )
    assert reset.status_code == 401


async def test_who_may_invite_whom(client: Any) -> None:
    admin = await _admin(client)
    assert (await _invite(client, admin, "x@northside.example", "lab_admin")).status_code == 422
    assert (await _invite(client, admin, "admin@northside.example")).status_code == 409
    await _invite(client, admin, "doc@northside.example", "practitioner")
    joined = await _accept(client, _token(client, "doc@northside.example"), "doc@northside.example")
    doc = {"Authorization": f"Bearer {joined.json()['tokens']['access_token']}"}
    denied = await _invite(client, doc, "friend@northside.example")
    assert denied.status_code == 403


async def test_password_reset_by_link(client: Any) -> None:
    await _admin(client)
    old = (await client.login("admin@northside.example")).json()
    unknown = await client.http.post("/v1/auth/password/reset", json={"email": "no@one.example"})
    assert unknown.status_code == 202
    asked = await client.http.post(
        "/v1/auth/password/reset", json={"email": "ADMIN@northside.example"}
    )
    assert asked.status_code == 202
    assert [m.to for m in client.mail.messages] == ["admin@northside.example"]
    token = _token(client, "admin@northside.example")
    body = {"email": "admin@northside.example", "token": token}
    weak = await client.http.post(
        "/v1/auth/password/reset/confirm", json={**body, "password": "password"}
    )
    assert weak.status_code == 422  # the link is not used up by a refused password
    done = await client.http.post(
        "/v1/auth/password/reset/confirm", json={**body, "password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    again = await client.http.post(
        "/v1/auth/password/reset/confirm", json={**body, "password": "yet another passphrase"}
    )
    assert again.status_code == 401
    assert again.json()["code"] == "auth.invalid_magic_link"
    refresh = await client.http.post(
        "/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}
    )
    assert refresh.status_code == 401  # every session was revoked
    assert (await client.login("admin@northside.example")).status_code == 401
    assert (await client.login("admin@northside.example", NEW_PASSWORD)).status_code == 200


async def test_reset_links_expire_and_belong_to_one_address(client: Any) -> None:
    await _admin(client, "northside")
    await _admin(client, "southside")
    for address in ("admin@northside.example", "admin@southside.example"):
        await client.http.post("/v1/auth/password/reset", json={"email": address})
    north = _token(client, "admin@northside.example")
    south = _token(client, "admin@southside.example")
    stolen = await client.http.post(
        "/v1/auth/password/reset/confirm",
        json={"email": "admin@southside.example", "token": north, "password": NEW_PASSWORD},
    )
    assert stolen.status_code == 401  # north's link cannot reset south's password
    assert (await client.login("admin@southside.example")).status_code == 200
    client.clock.advance(minutes=30, seconds=1)
    late = await client.http.post(
        "/v1/auth/password/reset/confirm",
        json={"email": "admin@southside.example", "token": south, "password": NEW_PASSWORD},
    )
    assert late.status_code == 401
    assert (await client.login("admin@southside.example")).status_code == 200


async def test_a_reset_lifts_the_lockout(client: Any) -> None:
    await _admin(client)
    for _ in range(5):
        await client.login("admin@northside.example", "wrong password entirely")
    assert (await client.login("admin@northside.example")).status_code == 429
    await client.http.post("/v1/auth/password/reset", json={"email": "admin@northside.example"})
    done = await client.http.post(
        "/v1/auth/password/reset/confirm",
        json={"email": "admin@northside.example", "password": NEW_PASSWORD,
              "token": _token(client, "admin@northside.example")},
    )  # fmt: skip
    assert done.status_code == 200
    assert (await client.login("admin@northside.example", NEW_PASSWORD)).status_code == 200


async def test_open_signup_off_refuses_signups(database_url: str, make_client: Any) -> None:
    from htma.migrate import MIGRATIONS  # noqa: PLC0415 -- as the client fixture does

    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, open_signup=False) as closed:
        response = await closed.http.post(
            "/v1/auth/signup",
            json={"clinic_id": "northside", "clinic_name": "N", "email": "a@n.example",
                  "password": PASSWORD, "display_name": "A"},
        )  # fmt: skip
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "htma.signup_closed"


@pytest.mark.parametrize(
    ("settings", "open_", "flagged"),
    [({}, True, False), ({"environment": "production"}, False, False),
     ({"environment": "production", "open_signup": True}, True, True),
     ({"open_signup": False}, False, False)],
)  # fmt: skip
def test_open_signup_follows_the_environment(
    settings: dict[str, Any], open_: bool, flagged: bool
) -> None:
    resolved = Settings(**settings)
    assert resolved.signup_open is open_
    assert ("open_signup" in resolved.insecure_fields()) is flagged


def test_open_signup_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTMA_OPEN_SIGNUP", "false")
    assert Settings().signup_open is False
