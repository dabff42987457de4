"""FastAPI dependencies: bearer parsing, 401 vs 403, RBAC, ABAC, problem+json answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI
from spaps_auth import (
    Authenticator,
    JsonWebKey,
    KeySet,
    Principal,
    TokenIssuer,
    TokenVerifier,
    any_of,
    has_permission,
    is_owner,
    parse_bearer,
    same_organisation,
)
from spaps_auth.fastapi import (
    CurrentPrincipal,
    OptionalPrincipal,
    get_principal,
    require_access,
    require_permissions,
    require_roles,
    setup_auth,
)

NOTES = {"n1": {"id": "n1", "owner_id": "alice", "org_id": "org-a"}}


def load_note(note_id: str) -> dict[str, str]:
    return NOTES[note_id]


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"sub": principal.subject, "permissions": sorted(principal.permissions)}

    @app.get("/maybe")
    async def maybe(principal: OptionalPrincipal) -> dict[str, Any]:
        return {"sub": principal.subject if principal else None}

    @app.get("/write", dependencies=[Depends(require_permissions("notes:write"))])
    async def write() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/admin")
    async def admin(
        principal: Annotated[Principal, Depends(require_roles("admin"))],
    ) -> dict[str, str]:
        return {"sub": principal.subject}

    @app.get("/notes/{note_id}")
    async def note(
        obj: Annotated[
            dict[str, str],
            Depends(
                require_access(
                    any_of(is_owner(), same_organisation(), has_permission("admin:all")), load_note
                )
            ),
        ],
    ) -> dict[str, str]:
        return obj

    return app


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _get(
    app: FastAPI, make_client: Callable[[FastAPI], httpx.AsyncClient], path: str, **headers: str
) -> httpx.Response:
    async with make_client(app) as client:
        return await client.get(path, headers=headers)


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"urn:spaps:problem:{code}"


async def test_valid_token_gives_principal_with_role_permissions(
    app: FastAPI, make_client: Any, issuer: TokenIssuer
) -> None:
    response = await _get(
        app, make_client, "/me", **_bearer(issuer.issue("alice", roles=["writer"]))
    )
    assert response.json() == {"sub": "alice", "permissions": ["notes:read", "notes:write"]}


async def test_missing_credentials_is_401(app: FastAPI, make_client: Any) -> None:
    response = await _get(app, make_client, "/me")
    _assert_problem(response, 401, "auth.unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_optional_principal(app: FastAPI, make_client: Any, issuer: TokenIssuer) -> None:
    assert (await _get(app, make_client, "/maybe")).json() == {"sub": None}
    assert (await _get(app, make_client, "/maybe", **_bearer(issuer.issue("bob")))).json() == {
        "sub": "bob"
    }
    # Invalid credentials are still a 401, not silently anonymous.
    _assert_problem(
        await _get(app, make_client, "/maybe", **_bearer("x.y.z")), 401, "auth.invalid_token"
    )


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token abc",
        "Bearerabc",
        "Bearer a,b.c",
        "bearer\tabc",
    ],
)
async def test_malformed_authorization_header(app: FastAPI, make_client: Any, header: str) -> None:
    _assert_problem(
        await _get(app, make_client, "/me", Authorization=header), 401, "auth.invalid_token"
    )


def test_parse_bearer_accepts_case_insensitive_scheme() -> None:
    assert parse_bearer("bEaReR abc.def-_~+/==") == "abc.def-_~+/=="


async def test_permission_missing_is_403_not_401(
    app: FastAPI, make_client: Any, issuer: TokenIssuer
) -> None:
    _assert_problem(
        await _get(app, make_client, "/write", **_bearer(issuer.issue("r", roles=["reader"]))),
        403,
        "auth.forbidden",
    )
    _assert_problem(await _get(app, make_client, "/write"), 401, "auth.unauthenticated")
    ok = await _get(app, make_client, "/write", **_bearer(issuer.issue("w", roles=["writer"])))
    assert ok.json() == {"ok": True}


async def test_require_roles(app: FastAPI, make_client: Any, issuer: TokenIssuer) -> None:
    _assert_problem(
        await _get(app, make_client, "/admin", **_bearer(issuer.issue("w", roles=["writer"]))),
        403,
        "auth.forbidden",
    )
    assert (
        await _get(app, make_client, "/admin", **_bearer(issuer.issue("a", roles=["admin"])))
    ).json() == {"sub": "a"}


async def test_abac_owner_org_or_permission(
    app: FastAPI, make_client: Any, issuer: TokenIssuer
) -> None:
    assert (
        await _get(app, make_client, "/notes/n1", **_bearer(issuer.issue("alice")))
    ).status_code == 200
    same_org = issuer.issue("carol", extra={"org": "org-a"})
    assert (await _get(app, make_client, "/notes/n1", **_bearer(same_org))).status_code == 200
    other_org = issuer.issue("mallory", extra={"org": "org-b"})
    _assert_problem(
        await _get(app, make_client, "/notes/n1", **_bearer(other_org)), 403, "auth.forbidden"
    )
    admin = issuer.issue("root", roles=["admin"])
    assert (await _get(app, make_client, "/notes/n1", **_bearer(admin))).status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _attack_tokens(ed_key: JsonWebKey, rsa_key: JsonWebKey) -> dict[str, str]:
    now = int(time.time())
    base = {
        "iss": "https://id.example.test",
        "aud": "api.example.test",
        "sub": "u",
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": "j",
    }

    def sign(claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(
            claims,
            ed_key.signing_key,
            algorithm="EdDSA",
            headers={"kid": "ed-1", "typ": "at+jwt", **headers},
        )

    payload = _b64(json.dumps(base).encode())
    good = sign(base)
    head, _, sig = good.split(".")
    tampered = _b64(json.dumps({**base, "sub": "admin"}).encode())
    return {
        "alg_none": _b64(b'{"alg":"none","kid":"ed-1"}') + f".{payload}.",
        "expired": sign({**base, "exp": now - 10, "iat": now - 100, "nbf": now - 100}),
        "not_yet_valid": sign({**base, "nbf": now + 600, "exp": now + 900}),
        "wrong_issuer": sign({**base, "iss": "https://evil.test"}),
        "wrong_audience": sign({**base, "aud": "other"}),
        "unknown_kid": sign(base, kid="nope"),
        "path_kid": sign(base, kid="../../keys/ed-1"),
        "missing_claims": sign({"sub": "u", "exp": now + 60}),
        "tampered": f"{head}.{tampered}.{sig}",
        "oversized": sign({**base, "pad": "x" * 9000}),
        "garbage": "not-a-jwt",
    }


async def test_every_attack_is_a_401_problem(
    app: FastAPI, make_client: Any, ed_key: JsonWebKey, rsa_key: JsonWebKey
) -> None:
    for name, token in _attack_tokens(ed_key, rsa_key).items():
        response = await _get(app, make_client, "/me", **_bearer(token))
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json", name
        assert response.json()["code"] in {"auth.invalid_token", "auth.token_expired"}, name


async def test_algorithm_confusion_over_http(
    make_client: Any, make_app: Callable[..., FastAPI], rsa_key: JsonWebKey
) -> None:
    app = make_app()
    keys = KeySet([rsa_key])
    setup_auth(
        app,
        authenticator=Authenticator(
            verifier=TokenVerifier(
                keys=keys,
                issuer="https://id.example.test",
                audience="api.example.test",
                algorithms=["RS256", "HS256"],
            )
        ),
    )

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> str:
        return principal.subject

    pem = rsa_key.verifying_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    genuine = TokenIssuer(
        keys=keys, issuer="https://id.example.test", audience="api.example.test"
    ).issue("u")
    payload = genuine.split(".")[1]
    head = _b64(b'{"alg":"HS256","kid":"rsa-1","typ":"JWT"}')
    mac = hmac.new(pem, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{head}.{payload}.{_b64(mac)}"
    assert (await _get(app, make_client, "/me", **_bearer(genuine))).status_code == 200
    _assert_problem(
        await _get(app, make_client, "/me", **_bearer(forged)), 401, "auth.invalid_token"
    )


async def test_dependency_fails_loudly_without_setup(make_client: Any) -> None:
    app = FastAPI()

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(get_principal)]) -> str:
        return principal.subject

    with pytest.raises(RuntimeError, match="setup_auth"):
        await _get(app, make_client, "/me")


def test_factories_validate_arguments() -> None:
    with pytest.raises(ValueError, match="role"):
        require_roles()
    with pytest.raises(ValueError, match="permission"):
        require_permissions()
