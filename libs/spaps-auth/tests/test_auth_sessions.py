"""Sessions, refresh-token rotation with reuse detection, revocation list, device routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from spaps_auth import (
    AuditLog,
    Authenticator,
    InvalidTokenError,
    NotFoundError,
    RefreshTokenReusedError,
    RevocationList,
    SessionManager,
    TokenExpiredError,
    TokenIssuer,
    TokenRevokedError,
    TokenVerifier,
)
from spaps_auth.fastapi import CurrentPrincipal, auth_router
from sqlalchemy.ext.asyncio import AsyncEngine


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(engine: AsyncEngine, issuer: TokenIssuer, clock: Clock) -> SessionManager:
    return SessionManager(
        engine,
        issuer=issuer,
        revocation=RevocationList(engine),
        audit=AuditLog(engine),
        clock=clock,
    )


AFTER_GRACE = timedelta(seconds=10)  # the default refresh_reuse_grace


async def test_start_and_refresh_rotates(manager: SessionManager, verifier: TokenVerifier) -> None:
    pair = await manager.start("alice", roles=["writer"], user_agent="Firefox", ip="10.0.0.1")
    claims = verifier.verify(pair.access_token)
    assert (claims.subject, claims.roles, claims.session_id) == (
        "alice",
        {"writer"},
        pair.session_id,
    )
    second = await manager.refresh(pair.refresh_token, ip="10.0.0.2")
    assert second.refresh_token != pair.refresh_token
    assert second.session_id == pair.session_id
    assert verifier.verify(second.access_token).roles == {"writer"}
    third = await manager.refresh(second.refresh_token)
    assert third.session_id == pair.session_id


async def test_reuse_revokes_the_whole_family_and_is_audited(
    manager: SessionManager, engine: AsyncEngine, clock: Clock
) -> None:
    pair = await manager.start("alice")
    rotated = await manager.refresh(pair.refresh_token)
    clock.now += AFTER_GRACE
    with pytest.raises(RefreshTokenReusedError):
        await manager.refresh(pair.refresh_token)  # the stolen, already-used token
    # The legitimate holder's newer token is dead too: the family is revoked.
    with pytest.raises(TokenRevokedError):
        await manager.refresh(rotated.refresh_token)
    assert await manager.list_sessions("alice") == []
    entries = await AuditLog(engine).entries()
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("refresh_token.reused", "alice", pair.session_id)
    ]


async def test_unknown_malformed_and_expired_refresh_tokens(
    engine: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = SessionManager(engine, issuer=issuer, refresh_ttl=timedelta(hours=1), clock=clock)
    with pytest.raises(InvalidTokenError, match="malformed"):
        await manager.refresh("garbage")
    with pytest.raises(InvalidTokenError, match="unknown"):
        await manager.refresh("rt_doesnotexist")
    pair = await manager.start("bob")
    clock.now += timedelta(hours=2)
    with pytest.raises(TokenExpiredError):
        await manager.refresh(pair.refresh_token)


async def test_session_list_and_revoke_are_per_user(manager: SessionManager) -> None:
    a1 = await manager.start("alice", user_agent="Laptop", ip="1.1.1.1")
    a2 = await manager.start("alice", user_agent="Phone", ip="2.2.2.2")
    b1 = await manager.start("bob")
    listed = await manager.list_sessions("alice")
    assert {s.id for s in listed} == {a1.session_id, a2.session_id}
    assert {s.user_agent for s in listed} == {"Laptop", "Phone"}
    with pytest.raises(NotFoundError):
        await manager.revoke("alice", b1.session_id)  # someone else's session
    await manager.revoke("alice", a1.session_id)
    with pytest.raises(TokenRevokedError):
        await manager.refresh(a1.refresh_token)
    assert [s.id for s in await manager.list_sessions("alice")] == [a2.session_id]
    assert (await manager.refresh(b1.refresh_token)).session_id == b1.session_id
    assert await manager.revoke_all("alice") == 1


async def test_revocation_list_stops_access_tokens(
    engine: AsyncEngine, issuer: TokenIssuer, keys: Any
) -> None:
    revocation = RevocationList(engine)
    manager = SessionManager(engine, issuer=issuer, revocation=revocation)
    verifier = TokenVerifier(
        keys=keys,
        issuer=issuer.issuer,
        audience=issuer.audience,
        algorithms=["EdDSA"],
        revocation=revocation,
    )
    pair = await manager.start("alice")
    assert (await verifier.averify(pair.access_token)).subject == "alice"
    await manager.revoke("alice", pair.session_id)
    with pytest.raises(TokenRevokedError):
        await verifier.averify(pair.access_token)
    # Single tokens can be revoked by jti too.
    lone = issuer.issue("carol")
    claims = verifier.verify(lone)
    await revocation.revoke_token(
        claims.token_id, expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    await revocation.revoke_token(
        claims.token_id, expires_at=datetime.now(UTC) + timedelta(minutes=6)
    )
    with pytest.raises(TokenRevokedError):
        await verifier.averify(lone)
    await revocation.revoke_token("old", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await revocation.purge_expired() == 1


@pytest.mark.postgres
async def test_concurrent_refresh_exactly_one_wins_without_grace_on_postgres(
    pg_engine: AsyncEngine, issuer: TokenIssuer
) -> None:
    manager = SessionManager(pg_engine, issuer=issuer, refresh_reuse_grace=timedelta(0))
    for _ in range(5):
        pair = await manager.start("alice")
        results = await asyncio.gather(
            *(manager.refresh(pair.refresh_token) for _ in range(4)), return_exceptions=True
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        # The first loser detects reuse and revokes the family; later losers may find the
        # session already revoked. Either way none of them gets tokens.
        assert any(isinstance(r, RefreshTokenReusedError) for r in losers), losers
        assert all(isinstance(r, RefreshTokenReusedError | TokenRevokedError) for r in losers), (
            losers
        )
        with pytest.raises(TokenRevokedError):
            await manager.refresh(winners[0].refresh_token)


@pytest.mark.postgres
async def test_rotation_and_reuse_on_postgres(pg_engine: AsyncEngine, issuer: TokenIssuer) -> None:
    clock = Clock()
    manager = SessionManager(pg_engine, issuer=issuer, audit=AuditLog(pg_engine), clock=clock)
    pair = await manager.start("alice", user_agent="ua")
    rotated = await manager.refresh(pair.refresh_token)
    clock.now += AFTER_GRACE
    with pytest.raises(RefreshTokenReusedError):
        await manager.refresh(pair.refresh_token)
    with pytest.raises(TokenRevokedError):
        await manager.refresh(rotated.refresh_token)


# --- HTTP routes ---------------------------------------------------------------------


async def test_routes_refresh_list_revoke_logout(  # noqa: PLR0917 - pytest fixtures
    manager: SessionManager,
    make_app: Callable[..., FastAPI],
    make_client: Any,
    engine: AsyncEngine,
    keys: Any,
    issuer: TokenIssuer,
    clock: Clock,
) -> None:
    verifier = TokenVerifier(
        keys=keys,
        issuer=issuer.issuer,
        audience=issuer.audience,
        algorithms=["EdDSA"],
        revocation=RevocationList(engine),
    )
    app = make_app(authenticator=Authenticator(verifier=verifier), sessions=manager)
    app.include_router(auth_router())

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> str:
        return principal.subject

    mine = await manager.start("alice", user_agent="Laptop")
    other = await manager.start("bob")
    auth = {"Authorization": f"Bearer {mine.access_token}"}
    async with make_client(app) as client:
        refreshed = await client.post(
            "/auth/refresh",
            json={"refresh_token": mine.refresh_token},
            headers={"User-Agent": "NewUA"},
        )
        assert refreshed.status_code == 200
        body = refreshed.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        clock.now += AFTER_GRACE
        reused = await client.post("/auth/refresh", json={"refresh_token": mine.refresh_token})
        assert reused.status_code == 401
        assert reused.json()["code"] == "auth.refresh_token_reused"
        bad = await client.post("/auth/refresh", json={})
        assert bad.status_code == 422

        second = await manager.start("alice", user_agent="Phone")
        auth = {"Authorization": f"Bearer {second.access_token}"}
        listed = (await client.get("/auth/sessions", headers=auth)).json()
        assert [(s["user_agent"], s["current"]) for s in listed] == [("Phone", True)]
        forbidden = await client.delete(f"/auth/sessions/{other.session_id}", headers=auth)
        assert forbidden.status_code == 404
        assert forbidden.json()["code"] == "auth.not_found"
        assert (await client.post("/auth/logout", headers=auth)).status_code == 204
        after = await client.get("/me", headers=auth)
        assert after.status_code == 401
        assert after.json()["code"] == "auth.token_revoked"
