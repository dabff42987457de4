"""API keys: prefix, shown once, hashed at rest, scopes, revocation, last-used, HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from spaps_auth import (
    ApiKeyManager,
    InvalidApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    TokenIssuer,
)
from spaps_auth._tables import api_keys as api_keys_table
from spaps_auth.fastapi import CurrentPrincipal, auth_router, require_permissions
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_create_verify_and_storage(engine: AsyncEngine) -> None:
    manager = ApiKeyManager(engine, prefix="ing")
    created = await manager.create("org-1", name="ci", scopes=["foods:read"])
    assert created.key.startswith("ing_")
    record = await manager.verify(created.key, required_scopes=["foods:read"])
    assert (record.owner_id, record.scopes, record.name) == ("org-1", {"foods:read"}, "ci")
    async with engine.connect() as conn:
        row = (await conn.execute(select(api_keys_table))).one()
    secret = created.key.split("_", 2)[2]
    assert secret not in str(tuple(row))  # only a hash is stored
    assert row.prefix == "ing"


async def test_bad_keys_are_rejected(engine: AsyncEngine) -> None:
    manager = ApiKeyManager(engine, prefix="ing")
    created = await manager.create("org-1", name="ci")
    _, key_id, secret = created.key.split("_", 2)
    for candidate in [
        "",
        "ing",
        f"sk_{key_id}_{secret}",
        f"ing_{key_id}_",
        f"ing_{key_id}_{secret}x",
        f"ing_0000000000000000_{secret}",
        f"ing_../../etc_{secret}",
        created.key + "x" * 300,
    ]:
        with pytest.raises(InvalidApiKeyError):
            await manager.verify(candidate)


async def test_scopes_revocation_expiry_and_last_used(engine: AsyncEngine) -> None:
    clock = Clock()
    manager = ApiKeyManager(engine, clock=clock, last_used_interval=timedelta(minutes=1))
    created = await manager.create(
        "u1", name="k", scopes=["a"], expires_at=clock.now + timedelta(days=1)
    )
    with pytest.raises(PermissionDeniedError):
        await manager.verify(created.key, required_scopes=["a", "b"])
    first = await manager.verify(created.key)
    [listed] = await manager.list("u1")
    assert listed.last_used_at == first.last_used_at
    clock.now += timedelta(seconds=10)
    await manager.verify(created.key)
    [listed] = await manager.list("u1")
    assert listed.last_used_at == first.last_used_at  # throttled write
    clock.now += timedelta(minutes=2)
    await manager.verify(created.key)
    [listed] = await manager.list("u1")
    assert listed.last_used_at == clock.now
    clock.now += timedelta(days=2)
    with pytest.raises(InvalidApiKeyError, match="expired"):
        await manager.verify(created.key)
    other = await manager.create("u1", name="k2")
    with pytest.raises(NotFoundError):
        await manager.revoke("someone-else", other.record.id)
    await manager.revoke("u1", other.record.id)
    with pytest.raises(InvalidApiKeyError):
        await manager.verify(other.key)


def test_prefix_is_validated(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="prefix"):
        ApiKeyManager(engine, prefix="Bad_Prefix")


async def test_api_key_authenticates_requests_and_routes(
    engine: AsyncEngine, make_app: Callable[..., FastAPI], make_client: Any, issuer: TokenIssuer
) -> None:
    manager = ApiKeyManager(engine)
    app = make_app(api_keys=manager)
    app.include_router(auth_router())

    @app.get("/foods", dependencies=[Depends(require_permissions("notes:read"))])
    async def foods(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.subject, "method": principal.auth_method}

    user = {"Authorization": f"Bearer {issuer.issue('alice', roles=['writer'])}"}
    async with make_client(app) as client:
        too_much = await client.post(
            "/auth/api-keys", json={"name": "x", "scopes": ["admin:all"]}, headers=user
        )
        assert too_much.status_code == 403
        created = await client.post(
            "/auth/api-keys", json={"name": "x", "scopes": ["notes:read"]}, headers=user
        )
        assert created.status_code == 201
        key = created.json()["key"]
        listed = (await client.get("/auth/api-keys", headers=user)).json()
        assert listed[0]["key"] is None
        assert listed[0]["scopes"] == ["notes:read"]
        ok = await client.get("/foods", headers={"X-API-Key": key})
        assert ok.json() == {"sub": "alice", "method": "api_key"}
        nested = await client.post("/auth/api-keys", json={"name": "y"}, headers={"X-API-Key": key})
        assert nested.status_code == 403
        wrong = await client.get("/foods", headers={"X-API-Key": key[:-2] + "zz"})
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "auth.invalid_api_key"
        assert (
            await client.delete(f"/auth/api-keys/{created.json()['id']}", headers=user)
        ).status_code == 204
        assert (await client.get("/foods", headers={"X-API-Key": key})).status_code == 401


def test_auth_router_without_api_keys_does_not_advertise_them() -> None:
    def paths(router: APIRouter) -> set[str]:
        return {route.path for route in router.routes if isinstance(route, APIRoute)}

    assert "/auth/api-keys" in paths(auth_router())
    assert "/auth/api-keys" not in paths(auth_router(api_keys=False))
    assert "/auth/refresh" in paths(auth_router(api_keys=False))
