"""``session_scope``: a session whose database dies under it maps the outage to 503 and
never lets the error of closing it escape."""

from __future__ import annotations

import pytest
from spaps_ops import ProblemError
from spaps_ops.db import Database, session_scope
from spaps_ops.testing import private_postgres
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


async def test_an_outage_inside_becomes_503_and_closing_the_dead_session_does_not_raise() -> None:
    with private_postgres() as postgres:
        database = Database(postgres.url, connect_timeout=1, statement_timeout=1, pool_timeout=1)
        try:

            async def query_across_a_crash() -> None:
                async with session_scope(database.sessions) as session:
                    await session.execute(text("SELECT 1"))  # a connection is checked out
                    postgres.kill()
                    assert postgres.process.poll() is not None  # the fault happened
                    await session.execute(text("SELECT 1"))

            with pytest.raises(ProblemError) as raised:
                await query_across_a_crash()
            # The outage is what the caller sees, not the error of closing the dead session.
            assert (raised.value.status, raised.value.code) == (503, "ops.database_unavailable")
            assert isinstance(raised.value.__cause__, DBAPIError)
        finally:
            await database.aclose()


async def test_a_session_that_worked_is_closed_at_the_end() -> None:
    with private_postgres() as postgres:
        database = Database(postgres.url)
        try:
            async with session_scope(database.sessions) as session:
                assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
                assert session.in_transaction()
            assert not session.in_transaction()
        finally:
            await database.aclose()
