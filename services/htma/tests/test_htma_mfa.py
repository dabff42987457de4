"""Second factor over HTTP: lockout across addresses, recovery codes, and the sessions
that security changes revoke (issue 25), and access tokens of revoked sessions (issue 15)."""

from __future__ import annotations

import time
from typing import Any

import pyotp

PASSWORD = "correct horse battery staple"
ADMIN = "admin@northside.example"


async def _signup(client: Any) -> dict[str, str]:
    body = {"clinic_id": "northside", "clinic_name": "Northside", "email": ADMIN,
            "password": PASSWORD, "display_name": "Nora"}  # fmt: skip
    response = await client.http.post("/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json()["tokens"])


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _enable_totp(client: Any, tokens: dict[str, str]) -> tuple[pyotp.TOTP, list[str]]:
    enrolment = (await client.http.post("/v1/auth/mfa/totp", headers=_bearer(tokens))).json()
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = await client.http.post(
        "/v1/auth/mfa/totp/confirm", headers=_bearer(tokens), json={"code": totp.now()}
    )
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recovery_codes"]


async def _actions(client: Any, action: str) -> list[Any]:
    entries = await client.app.state.htma.auth.audit.entries(limit=1000)
    return [e for e in entries if e.action == action]


async def _refresh(client: Any, tokens: dict[str, str]) -> Any:
    return await client.http.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )


async def test_wrong_codes_from_many_addresses_lock_the_account(client: Any) -> None:
    """Each address sends one wrong code (far below the per-address limit); the account
    still locks after ``lockout_threshold`` (5) failures, and the right code is refused."""
    totp, _ = await _enable_totp(client, await _signup(client))
    for n in range(5):
        async with client.from_address(f"198.51.100.{n + 1}") as http:
            wrong = await http.post(
                "/v1/auth/login", json={"email": ADMIN, "password": PASSWORD, "otp": "000000"}
            )
        assert wrong.status_code == 401, wrong.text
        assert wrong.json()["code"] == "auth.invalid_otp"
    async with client.from_address("203.0.113.7") as http:
        right = await http.post(
            "/v1/auth/login",
            json={"email": ADMIN, "password": PASSWORD, "otp": totp.at(time.time() + 30)},
        )
    assert right.status_code == 429, right.text
    assert right.json()["code"] == "auth.account_locked"
    assert int(right.headers["retry-after"]) >= 1
    failed = await _actions(client, "mfa.failed")
    assert len(failed) == 5
    assert {e.data["ip"] for e in failed} == {f"198.51.100.{n}" for n in range(1, 6)}


async def test_a_missing_code_does_not_count_and_a_right_one_resets(client: Any) -> None:
    totp, codes = await _enable_totp(client, await _signup(client))
    for _ in range(6):  # prompts for the code are not failures
        missing = await client.login(ADMIN)
        assert missing.json()["code"] == "htma.mfa_required"
    for _ in range(4):
        assert (await client.login(ADMIN, otp="000000")).status_code == 401
    assert (await client.login(ADMIN, otp=codes[0])).status_code == 200  # resets the count
    for _ in range(4):
        assert (await client.login(ADMIN, otp="000000")).status_code == 401
    next_step = totp.at(time.time() + 30)  # the confirmation used the current step
    assert (await client.login(ADMIN, otp=next_step)).status_code == 200


async def test_recovery_codes_work_once_each_in_the_form_shown(client: Any) -> None:
    _, codes = await _enable_totp(client, await _signup(client))
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    shown = await client.login(ADMIN, otp=codes[0])
    assert shown.status_code == 200, shown.text
    assert shown.json()["recovery_codes_remaining"] == 9
    again = await client.login(ADMIN, otp=codes[0])
    assert again.status_code == 401
    assert again.json()["code"] == "auth.invalid_otp"
    upper = await client.login(ADMIN, otp=codes[1].upper().replace("-", ""))
    assert upper.status_code == 200, upper.text
    assert upper.json()["recovery_codes_remaining"] == 8
    used = await _actions(client, "mfa.recovery_code_used")
    assert [e.data["remaining"] for e in used] == [9, 8]
    plain = await client.login(ADMIN)  # without MFA, the field is null
    assert plain.json()["code"] == "htma.mfa_required"


async def test_enabling_and_disabling_mfa_revoke_the_other_sessions(client: Any) -> None:
    older = await _signup(client)
    current = (await client.login(ADMIN)).json()
    _, codes = await _enable_totp(client, current)
    refused = await _refresh(client, older)
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.token_revoked"
    stale = await client.http.get("/v1/me", headers=_bearer(older))
    assert stale.status_code == 401
    assert (await client.http.get("/v1/me", headers=_bearer(current))).status_code == 200
    assert (await _refresh(client, current)).status_code == 200
    current = (await client.login(ADMIN, otp=codes[0])).json()
    other = (await client.login(ADMIN, otp=codes[1])).json()
    wrong = await client.http.post(
        "/v1/auth/mfa/totp/disable", headers=_bearer(current), json={"otp": "000000"}
    )
    assert wrong.status_code == 401
    disabled = await client.http.post(
        "/v1/auth/mfa/totp/disable", headers=_bearer(current), json={"otp": codes[2]}
    )
    assert disabled.status_code == 200, disabled.text
    assert (await _refresh(client, other)).status_code == 401
    assert (await client.http.get("/v1/me", headers=_bearer(current))).status_code == 200
    assert (await client.login(ADMIN)).status_code == 200  # no code needed any more
    assert len(await _actions(client, "mfa.disabled")) == 1
    assert len(await _actions(client, "mfa.enabled")) == 1


async def test_changing_the_password_revokes_the_other_sessions(client: Any) -> None:
    older = await _signup(client)
    current = (await client.login(ADMIN)).json()
    wrong = await client.http.post(
        "/v1/auth/password", headers=_bearer(current),
        json={"current_password": "not the password", "new_password": "a brand new passphrase"},
    )  # fmt: skip
    assert wrong.status_code == 401
    weak = await client.http.post(
        "/v1/auth/password", headers=_bearer(current),
        json={"current_password": PASSWORD, "new_password": "password"},
    )  # fmt: skip
    assert weak.status_code == 422
    older = (await _refresh(client, older)).json()  # refused changes revoke nothing
    assert "refresh_token" in older
    changed = await client.http.post(
        "/v1/auth/password", headers=_bearer(current),
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"sessions_revoked": 1}
    revoked = await _refresh(client, older)
    assert revoked.status_code == 401
    assert revoked.json()["code"] == "auth.token_revoked"
    assert (await client.http.get("/v1/me", headers=_bearer(older))).status_code == 401
    assert (await client.http.get("/v1/me", headers=_bearer(current))).status_code == 200
    assert (await client.login(ADMIN)).status_code == 401
    assert (await client.login(ADMIN, "a brand new passphrase")).status_code == 200


async def test_access_tokens_of_a_logged_out_session_are_refused(client: Any) -> None:
    tokens = await _signup(client)
    assert (await client.http.get("/v1/me", headers=_bearer(tokens))).status_code == 200
    out = await client.http.post("/v1/auth/logout", headers=_bearer(tokens))
    assert out.status_code == 204
    after = await client.http.get("/v1/me", headers=_bearer(tokens))
    assert after.status_code == 401
    assert after.json()["code"] == "auth.token_revoked"


async def test_access_tokens_of_a_reused_refresh_family_are_refused(client: Any) -> None:
    await _signup(client)
    first = (await client.login(ADMIN)).json()
    second = (await _refresh(client, first)).json()
    third = (await _refresh(client, second)).json()
    assert (await client.http.get("/v1/me", headers=_bearer(third))).status_code == 200
    reused = await _refresh(client, first)  # two generations old: the family is revoked
    assert reused.json()["code"] == "auth.refresh_token_reused"
    for tokens in (first, second, third):
        refused = await client.http.get("/v1/me", headers=_bearer(tokens))
        assert refused.status_code == 401
        assert refused.json()["code"] == "auth.token_revoked"
