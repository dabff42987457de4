"""Retention of sessions and invitations: only the ones that ended before the cutoff go
(with a session's refresh tokens), oldest first, at most ``limit`` per batch, on both
back ends; each target is driven the way a runner drives it, one transaction a batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from spaps_auth import (
    InvitationRetention,
    OrganisationManager,
    SessionManager,
    SessionRetention,
    TokenIssuer,
)
from spaps_auth._tables import invitations, memberships, refresh_tokens, sessions
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """A clock that moves only when the test sets it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, offset: timedelta) -> None:
        self.now = T0 + offset


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> AsyncEngine:
    """An engine with the spaps-auth tables, on SQLite and on a fresh PostgreSQL database."""
    engine: AsyncEngine = request.getfixturevalue(
        "engine" if request.param == "sqlite" else "pg_engine"
    )
    return engine


Target = SessionRetention | InvitationRetention


async def count(engine: AsyncEngine, target: Target, cutoff: datetime) -> int:
    async with engine.connect() as connection:
        return await target.count_expired(connection, cutoff=cutoff)


async def purge(engine: AsyncEngine, target: Target, cutoff: datetime, limit: int) -> int:
    async with engine.begin() as connection:
        return await target.purge_batch(connection, cutoff=cutoff, limit=limit)


async def ids(engine: AsyncEngine, column: object) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(column))).scalars())  # type: ignore[call-overload]


def managers(engine: AsyncEngine, issuer: TokenIssuer, clock: Clock) -> dict[str, SessionManager]:
    return {
        "long": SessionManager(engine, issuer=issuer, clock=clock),
        "day": SessionManager(
            engine,
            issuer=issuer,
            clock=clock,
            refresh_ttl=timedelta(days=1),
            session_ttl=timedelta(days=1),
        ),
        "ten": SessionManager(
            engine,
            issuer=issuer,
            clock=clock,
            refresh_ttl=timedelta(days=10),
            session_ttl=timedelta(days=10),
        ),
    }


async def test_only_sessions_that_ended_before_the_cutoff_go_with_their_refresh_tokens(
    db: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    m = managers(db, issuer, clock)
    active = await m["long"].start("u1")
    expired = await m["day"].start("u2")
    await m["day"].refresh(expired.refresh_token)  # a second refresh token of that session
    revoked = await m["long"].start("u3")
    revoked_late = await m["long"].start("u4")
    expires_late = await m["ten"].start("u5")
    clock.at(timedelta(hours=1))
    await m["long"].revoke("u3", revoked.session_id)
    clock.at(timedelta(days=20))
    await m["long"].revoke("u4", revoked_late.session_id)

    target = SessionRetention()
    cutoff = T0 + timedelta(days=5)
    assert await count(db, target, cutoff) == 2
    assert await purge(db, target, cutoff, 100) == 2
    assert await count(db, target, cutoff) == 0
    assert await purge(db, target, cutoff, 100) == 0

    kept = {active.session_id, revoked_late.session_id, expires_late.session_id}
    assert await ids(db, sessions.c.id) == kept
    assert await ids(db, refresh_tokens.c.session_id) == kept
    # A purged session is unknown: its access tokens read as revoked.
    fresh = SessionManager(db, issuer=issuer, clock=clock)
    assert await fresh.is_revoked("jti", revoked.session_id)
    assert not await fresh.is_revoked("jti", active.session_id)
    # A later cutoff takes the session that expired on day 10 and the one revoked on day 20.
    assert await count(db, target, T0 + timedelta(days=30)) == 2


async def test_session_batches_honour_the_limit_oldest_first(
    db: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = SessionManager(
        db, issuer=issuer, clock=clock, refresh_ttl=timedelta(days=1), session_ttl=timedelta(days=1)
    )
    started = []
    for day in range(5):
        clock.at(timedelta(days=day))
        started.append((await manager.start(f"u{day}")).session_id)
    target = SessionRetention()
    cutoff = T0 + timedelta(days=30)
    assert await count(db, target, cutoff) == 5

    batches = [await purge(db, target, cutoff, 2) for _ in range(4)]
    assert batches == [2, 2, 1, 0]
    assert await ids(db, sessions.c.id) == set()

    # Oldest first: the first batch of a fresh run takes the two that expired first.
    for day in range(3):
        clock.at(timedelta(days=day))
        started.append((await manager.start(f"v{day}")).session_id)
    assert await purge(db, target, cutoff, 2) == 2
    assert await ids(db, sessions.c.id) == {started[-1]}


async def test_a_batch_rolled_back_deletes_nothing(db: AsyncEngine, issuer: TokenIssuer) -> None:
    clock = Clock()
    manager = SessionManager(
        db, issuer=issuer, clock=clock, refresh_ttl=timedelta(days=1), session_ttl=timedelta(days=1)
    )
    pair = await manager.start("u1")
    cutoff = T0 + timedelta(days=5)

    async def purge_then_fail() -> None:
        async with db.begin() as connection:
            assert await SessionRetention().purge_batch(connection, cutoff=cutoff, limit=10) == 1
            raise RuntimeError("runner failed")

    with pytest.raises(RuntimeError, match="runner failed"):
        await purge_then_fail()
    assert await ids(db, sessions.c.id) == {pair.session_id}
    assert await ids(db, refresh_tokens.c.session_id) == {pair.session_id}


async def test_only_invitations_that_ended_before_the_cutoff_go(db: AsyncEngine) -> None:
    clock = Clock()
    orgs = OrganisationManager(db, clock=clock)
    short = OrganisationManager(db, clock=clock, invitation_ttl=timedelta(days=1))
    org = await orgs.create_organisation("Clinic", owner_id="owner")
    team = await orgs.create_team(org.id, "Lab")

    pending, _ = await orgs.invite(org.id, "a@example.test", "member")
    expired, _ = await short.invite(org.id, "e@example.test", "member", team_id=team.id)
    superseded, _ = await orgs.invite(org.id, "b@example.test", "member")
    accepted, accepted_token = await orgs.invite(org.id, "c@example.test", "member")
    accepted_late, late_token = await orgs.invite(org.id, "d@example.test", "member")
    clock.at(timedelta(hours=1))
    resent, _ = await orgs.invite(org.id, "b@example.test", "member")  # revokes the first
    clock.at(timedelta(hours=2))
    await orgs.accept(accepted_token, "user-c")
    clock.at(timedelta(days=6))
    await orgs.accept(late_token, "user-d")

    target = InvitationRetention()
    cutoff = T0 + timedelta(days=5)
    assert await count(db, target, cutoff) == 3
    assert await purge(db, target, cutoff, 2) == 2
    assert await purge(db, target, cutoff, 2) == 1
    assert await purge(db, target, cutoff, 2) == 0
    assert await ids(db, invitations.c.id) == {pending.id, resent.id, accepted_late.id}
    assert not {expired.id, superseded.id, accepted.id} & await ids(db, invitations.c.id)
    # The membership an accepted invitation created is not an invitation: it stays.
    assert {"user-c", "user-d"} <= await ids(db, memberships.c.user_id)
    # Once every invitation has ended long enough, all go.
    assert await count(db, target, T0 + timedelta(days=60)) == 3


async def test_invitation_batches_go_oldest_first(db: AsyncEngine) -> None:
    clock = Clock()
    orgs = OrganisationManager(db, clock=clock, invitation_ttl=timedelta(days=1))
    org = await orgs.create_organisation("Clinic", owner_id="owner")
    made = []
    for day in (3, 1, 2):  # created out of order: the one that ended first goes first
        clock.at(timedelta(days=day))
        made.append((await orgs.invite(org.id, f"u{day}@example.test", "member"))[0].id)
    cutoff = T0 + timedelta(days=30)
    assert await purge(db, InvitationRetention(), cutoff, 1) == 1
    assert await ids(db, invitations.c.id) == {made[0], made[2]}
    async with db.connect() as connection:
        left = (await connection.execute(select(func.count()).select_from(invitations))).scalar()
    assert left == 2


def test_targets_declare_their_names_and_keep() -> None:
    assert (SessionRetention().name, SessionRetention().default_keep) == (
        "auth.sessions",
        timedelta(days=30),
    )
    assert (InvitationRetention().name, InvitationRetention().default_keep) == (
        "auth.invitations",
        timedelta(days=30),
    )
    assert SessionRetention(keep=timedelta(days=7)).default_keep == timedelta(days=7)
    for target in (SessionRetention, InvitationRetention):
        with pytest.raises(ValueError, match="keep"):
            target(keep=timedelta(0))


async def test_batches_refuse_a_naive_cutoff_and_a_limit_below_one(db: AsyncEngine) -> None:
    for target in (SessionRetention(), InvitationRetention()):
        async with db.begin() as connection:
            with pytest.raises(ValueError, match="aware"):
                await target.count_expired(connection, cutoff=datetime(2026, 1, 1))
            with pytest.raises(ValueError, match="limit"):
                await target.purge_batch(connection, cutoff=T0, limit=0)


@pytest.mark.postgres
async def test_two_purges_at_once_share_the_sessions_on_postgres(
    pg_engine: AsyncEngine, issuer: TokenIssuer
) -> None:
    clock = Clock()
    manager = SessionManager(
        pg_engine,
        issuer=issuer,
        clock=clock,
        refresh_ttl=timedelta(days=1),
        session_ttl=timedelta(days=1),
    )
    for i in range(10):
        await manager.start(f"u{i}")
    target, cutoff = SessionRetention(), T0 + timedelta(days=30)

    async def purge_all() -> int:
        purged = 0
        while count := await purge(pg_engine, target, cutoff, 2):
            purged += count
        return purged

    assert sum(await asyncio.gather(purge_all(), purge_all())) == 10
    assert await ids(pg_engine, sessions.c.id) == set()
