"""Access tokens of revoked sessions are refused: ``SessionManager`` as the verifier's
revocation checker, fed by the sessions table through a short, bounded cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from fastapi import FastAPI
from spaps_auth import (
    Authenticator,
    KeySet,
    RefreshTokenReusedError,
    RevocationList,
    SessionManager,
    TokenIssuer,
    TokenRevokedError,
    TokenVerifier,
    metadata,
)
from spaps_auth.fastapi import CurrentPrincipal, auth_router
from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncEngine

CACHE = timedelta(seconds=5)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> AsyncEngine:
    name = "engine" if request.param == "sqlite" else "pg_engine"
    engine: AsyncEngine = request.getfixturevalue(name)
    return engine


async def _passes_done() -> None:
    """Wait for the background revocation passes a test started: none may outlive it (its
    loop would end with the pass's connection open)."""
    await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}))


def _verifier(keys: KeySet, issuer: TokenIssuer, checker: SessionManager) -> TokenVerifier:
    return TokenVerifier(
        keys=keys,
        issuer=issuer.issuer,
        audience=issuer.audience,
        algorithms=["EdDSA"],
        revocation=checker,
    )


class Processes(NamedTuple):
    """The manager that revokes, and another on the same database (another process)
    whose verifier checks tokens; one clock for both."""

    clock: Clock
    revoker: SessionManager
    other: SessionManager
    verifier: TokenVerifier


@pytest.fixture
def processes(db: AsyncEngine, issuer: TokenIssuer, keys: KeySet) -> Processes:
    clock = Clock()
    other = SessionManager(db, issuer=issuer, clock=clock, revocation_cache_ttl=CACHE)
    revoker = SessionManager(db, issuer=issuer, clock=clock)
    return Processes(clock, revoker, other, _verifier(keys, issuer, other))


async def test_logout_refuses_the_access_token_once_the_cache_window_passed(
    processes: Processes,
) -> None:
    clock, revoker, _other, verifier = processes
    pair = await revoker.start("alice")
    assert (await verifier.averify(pair.access_token)).session_id == pair.session_id
    await revoker.revoke("alice", pair.session_id)  # what /auth/logout does
    clock.now += CACHE - timedelta(milliseconds=1)
    # The documented staleness: another process may accept it until its cache entry ages.
    assert (await verifier.averify(pair.access_token)).subject == "alice"
    clock.now += timedelta(milliseconds=1)
    with pytest.raises(TokenRevokedError):
        await verifier.averify(pair.access_token)
    await _passes_done()  # the first check past half the window started one


async def test_the_revoking_manager_refuses_at_once(
    db: AsyncEngine, issuer: TokenIssuer, keys: KeySet
) -> None:
    manager = SessionManager(db, issuer=issuer, revocation_cache_ttl=timedelta(minutes=1))
    verifier = _verifier(keys, issuer, manager)
    pair = await manager.start("alice")
    assert (await verifier.averify(pair.access_token)).subject == "alice"
    await manager.revoke("alice", pair.session_id)
    with pytest.raises(TokenRevokedError):
        await verifier.averify(pair.access_token)


async def test_reuse_revoked_family_refuses_all_its_access_tokens(processes: Processes) -> None:
    clock, revoker, _other, verifier = processes
    pair = await revoker.start("alice")
    rotated = await revoker.refresh(pair.refresh_token)
    for token in (pair.access_token, rotated.access_token):
        assert (await verifier.averify(token)).subject == "alice"
    clock.now += timedelta(seconds=10)  # past the refresh-reuse grace window
    with pytest.raises(RefreshTokenReusedError):
        await revoker.refresh(pair.refresh_token)
    clock.now += CACHE
    for token in (pair.access_token, rotated.access_token):
        with pytest.raises(TokenRevokedError):
            await verifier.averify(token)


async def test_unknown_expired_and_sessionless_tokens(
    engine: AsyncEngine, issuer: TokenIssuer, keys: KeySet
) -> None:
    clock = Clock()
    revocation = RevocationList(engine)
    manager = SessionManager(
        engine,
        issuer=issuer,
        clock=clock,
        refresh_ttl=timedelta(hours=1),
        session_ttl=timedelta(hours=1),
        revocation=revocation,
        revocation_cache_ttl=timedelta(0),
    )
    verifier = _verifier(keys, issuer, manager)
    with pytest.raises(TokenRevokedError):  # a sid this store never issued
        await verifier.averify(issuer.issue("mallory", session_id="forged"))
    lone = issuer.issue("service")  # no session: only its jti can be revoked
    claims = await verifier.averify(lone)
    await revocation.revoke_token(claims.token_id, expires_at=clock.now + timedelta(minutes=5))
    with pytest.raises(TokenRevokedError):
        await verifier.averify(lone)
    pair = await manager.start("alice")
    assert (await verifier.averify(pair.access_token)).subject == "alice"
    clock.now += timedelta(hours=1)  # the session's absolute lifetime ends
    with pytest.raises(TokenRevokedError):
        await verifier.averify(pair.access_token)


async def test_the_cache_is_bounded(engine: AsyncEngine, issuer: TokenIssuer, keys: KeySet) -> None:
    clock = Clock()
    revoker = SessionManager(engine, issuer=issuer, clock=clock)
    other = SessionManager(
        engine,
        issuer=issuer,
        clock=clock,
        revocation_cache_ttl=timedelta(hours=1),
        revocation_cache_size=1,
    )
    verifier = _verifier(keys, issuer, other)
    first, second = await revoker.start("alice"), await revoker.start("bob")
    assert (await verifier.averify(first.access_token)).subject == "alice"
    assert (await verifier.averify(second.access_token)).subject == "bob"  # evicts alice's
    await revoker.revoke("alice", first.session_id)
    with pytest.raises(TokenRevokedError):  # not cached any more: read again at once
        await verifier.averify(first.access_token)
    with pytest.raises(ValueError, match="revocation_cache"):
        SessionManager(engine, issuer=issuer, revocation_cache_size=0)
    with pytest.raises(ValueError, match="revocation_cache"):
        SessionManager(engine, issuer=issuer, revocation_cache_ttl=timedelta(seconds=-1))


async def test_logout_route_then_the_access_token_is_refused(
    engine: AsyncEngine,
    issuer: TokenIssuer,
    keys: KeySet,
    make_app: Callable[..., FastAPI],
    make_client: Any,
) -> None:
    manager = SessionManager(engine, issuer=issuer)
    app = make_app(
        authenticator=Authenticator(verifier=_verifier(keys, issuer, manager)), sessions=manager
    )
    app.include_router(auth_router())

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> str:
        return principal.subject

    pair = await manager.start("alice")
    auth = {"Authorization": f"Bearer {pair.access_token}"}
    async with make_client(app) as client:
        assert (await client.get("/me", headers=auth)).json() == "alice"
        assert (await client.post("/auth/logout", headers=auth)).status_code == 204
        after = await client.get("/me", headers=auth)
    assert after.status_code == 401
    assert after.json()["code"] == "auth.token_revoked"


class Statements:
    """Counts the statements sent on an engine, and the session ids in ``IN`` lists."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.texts: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)
        self._engine = engine

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "auth_sessions" in statement:
            self.texts.append(statement)

    def close(self) -> None:
        event.remove(self._engine.sync_engine, "before_cursor_execute", self._seen)


async def test_a_known_session_costs_no_query_and_a_background_pass_sees_revocations(
    db: AsyncEngine, processes: Processes
) -> None:
    clock, revoker, _other, verifier = processes
    alice, bob = await revoker.start("alice"), await revoker.start("bob")
    statements = Statements(db)
    try:
        for token in (alice.access_token, bob.access_token):
            await verifier.averify(token)
        assert len(statements.texts) == 2  # each session read once
        for _ in range(5):
            assert (await verifier.averify(alice.access_token)).subject == "alice"
        assert len(statements.texts) == 2  # answered from memory
        await revoker.revoke("alice", alice.session_id)
        statements.texts.clear()
        clock.now += CACHE * 0.6  # older than half the window: a pass starts
        assert (await verifier.averify(bob.access_token)).subject == "bob"
        for _ in range(3000):  # poll until the pass has seen the revocation
            try:
                await verifier.averify(alice.access_token)
            except TokenRevokedError:
                break
            await asyncio.sleep(0.01)  # sleep-ok: the poll interval while the pass runs
        else:
            pytest.fail("the background pass never saw the revocation")
        # Seen within the window (at 0.6 of it) through one pass over both sessions, and
        # no request read its own session.
        assert len(statements.texts) == 1, statements.texts
        assert " IN " in statements.texts[0].upper() or "= ANY (" in statements.texts[0].upper()
        assert (await verifier.averify(bob.access_token)).subject == "bob"
        assert len(statements.texts) == 1
        await _passes_done()
    finally:
        statements.close()


async def test_a_pass_reads_many_sessions_in_few_statements_and_sees_deleted_ones(
    db: AsyncEngine, processes: Processes
) -> None:
    _clock, revoker, other, verifier = processes
    pairs = [await revoker.start(f"user{i}") for i in range(1200)]
    for pair in pairs:
        await verifier.averify(pair.access_token)
    gone = pairs[700]
    sessions, tokens = (metadata.tables[f"auth_{name}"] for name in ("sessions", "refresh_tokens"))
    async with db.begin() as conn:  # what an erasure does: the session's rows are deleted
        await conn.execute(delete(tokens).where(tokens.c.session_id == gone.session_id))
        await conn.execute(delete(sessions).where(sessions.c.id == gone.session_id))
    statements = Statements(db)
    try:
        assert await other.refresh_revocations() == 1200
    finally:
        statements.close()
    # PostgreSQL: one statement, the ids as one array; elsewhere 500 bound ids a statement.
    assert len(statements.texts) == (1 if db.dialect.name == "postgresql" else 3)
    with pytest.raises(TokenRevokedError):
        await verifier.averify(gone.access_token)
    assert (await verifier.averify(pairs[701].access_token)).subject == "user701"
    assert await other.refresh_revocations() == 1199  # the revoked one is final


async def test_a_pass_stranded_on_another_loop_does_not_hold_back_this_loops(
    processes: Processes,
) -> None:
    clock, revoker, other, verifier = processes
    alice = await revoker.start("alice")
    await verifier.averify(alice.access_token)
    await revoker.revoke("alice", alice.session_id)
    # A pass that can never finish: its loop was closed without running or cancelling it
    # (white-box: the manager's status remembers its running pass in ``_refreshing``).
    abandoned = asyncio.new_event_loop()
    stranded = abandoned.create_future()  # stands for the pass's task: pending for good
    abandoned.close()
    status = other._status
    status._refreshing = stranded
    try:
        clock.now += CACHE * 0.6  # older than half the window: this loop starts its own
        assert (await verifier.averify(alice.access_token)).subject == "alice"
        assert status._refreshing is not stranded
        await _passes_done()
        with pytest.raises(TokenRevokedError):  # seen by this loop's pass, within the window
            await verifier.averify(alice.access_token)
    finally:
        stranded.cancel()
