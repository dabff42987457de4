"""The migrations readiness check during a release: a database a newer release migrated
(ahead of this release's scripts) stays ready; behind or divergent does not. And the
revisions pending in each of those states. Real Alembic scripts, on both back ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops.db import (
    Database,
    Migrations,
    MigrationsPendingError,
    migration_check,
    migration_status,
    use_database,
)

ENV_PY = """
from pathlib import Path

from spaps_ops.db import Migrations

Migrations(Path(__file__).parent).run_env(None)
"""

CREATE_TABLE = """
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down}
branch_labels = {labels}
depends_on = None


def upgrade():
    op.create_table("t_{rev}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t_{rev}")
"""

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


def write_scripts(location: Path, revisions: list[tuple[str, str | None, str | None]]) -> Path:
    """Alembic scripts: ``(revision, down_revision, branch label)``, each creating a table."""
    (location / "versions").mkdir(parents=True)
    (location / "env.py").write_text(ENV_PY)
    for rev, down, label in revisions:
        labels = repr((label,)) if label else None
        (location / "versions" / f"{rev}.py").write_text(
            CREATE_TABLE.format(rev=rev, down=repr(down), labels=labels)
        )
    return location


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Migrations]:
    """The old release's scripts (0001, 0002) and the new release's (0001 to 0003)."""
    old = write_scripts(tmp_path / "old", [("0001", None, None), ("0002", "0001", None)])
    new = write_scripts(
        tmp_path / "new", [("0001", None, None), ("0002", "0001", None), ("0003", "0002", None)]
    )
    return old, Migrations(new)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = Database(url)
    yield made
    await made.aclose()


@pytest.fixture
def old_pod(
    database: Database,
    releases: tuple[Path, Migrations],
    make_app: Callable[..., FastAPI],
    make_client: Client,
) -> Callable[[], Awaitable[httpx.AsyncClient]]:
    """A client of an app of the old release (its scripts) on ``database``."""

    async def client() -> httpx.AsyncClient:
        app = make_app()
        use_database(app, database, migrations=releases[0])
        return await make_client(app)

    return client


async def check_outcome(check: Callable[[], Awaitable[Any]]) -> Any:
    """What the check returned, or the error it raised."""
    try:
        return await check()
    except MigrationsPendingError as exc:
        return exc


async def test_a_database_a_newer_release_migrated_is_ready_and_reported_ahead(
    database: Database,
    releases: tuple[Path, Migrations],
    old_pod: Callable[[], Awaitable[httpx.AsyncClient]],
) -> None:
    old, new = releases
    await new.upgrade(database.url, "0002")
    assert (await migration_status(database.engine, old)).state == "current"
    await new.upgrade(database.url)  # the release migrates: expand step 0003
    status = await migration_status(database.engine, old)
    assert (status.current, status.unknown, status.state) == (("0003",), ("0003",), "ahead")
    assert not status.up_to_date

    client = await old_pod()  # this release's scripts
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    details = (await client.get("/health")).json()["checks"]["migrations"]
    assert details["status"] == "ok"
    assert details["details"] == {
        "current": ["0003"],
        "heads": ["0002"],
        "up_to_date": False,
        "state": "ahead",
        "unknown": ["0003"],
    }
    # The new release's own pods see the database current.
    assert (await migration_status(database.engine, new.script_location)).state == "current"
    # Who wants exactly the head opts out.
    strict = await check_outcome(migration_check(database.engine, old, allow_ahead=False))
    assert isinstance(strict, MigrationsPendingError)
    assert "database ahead" in str(strict)


async def test_a_database_behind_is_not_ready(
    database: Database,
    releases: tuple[Path, Migrations],
    old_pod: Callable[[], Awaitable[httpx.AsyncClient]],
) -> None:
    old, new = releases
    await new.upgrade(database.url, "0001")
    status = await migration_status(database.engine, old)
    assert (status.unknown, status.state) == ((), "behind")
    client = await old_pod()
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["failing_checks"] == ["migrations"]
    error = (await client.get("/health")).json()["checks"]["migrations"]["error"]
    assert error == "MigrationsPendingError: database at ['0001'], scripts at ['0002']"


async def test_a_divergent_database_is_not_ready(
    database: Database, releases: tuple[Path, Migrations], tmp_path: Path
) -> None:
    old, _ = releases
    # Another script set: this release's first revision, and a branch of its own that the
    # old scripts never had. The database ends at 0001 (behind them) plus x001 (unknown).
    other = Migrations(
        write_scripts(tmp_path / "other", [("0001", None, None), ("x001", None, "other")])
    )
    await other.upgrade(database.url, "heads")
    status = await migration_status(database.engine, old)
    assert set(status.current) == {"0001", "x001"}
    assert (status.unknown, status.state) == (("x001",), "divergent")
    outcome = await check_outcome(migration_check(database.engine, old))
    assert isinstance(outcome, MigrationsPendingError)
    assert "database divergent" in str(outcome)
    assert "unknown to them ['x001']" in str(outcome)


async def test_a_never_migrated_database_is_behind(
    database: Database, releases: tuple[Path, Migrations]
) -> None:
    old, _ = releases
    status = await migration_status(database.engine, old)
    assert (status.current, status.unknown, status.state) == ((), (), "behind")
    assert isinstance(await check_outcome(migration_check(database.engine, old)), Exception)


async def test_pending_lists_what_an_upgrade_applies_oldest_first(
    database: Database, releases: tuple[Path, Migrations]
) -> None:
    _, new = releases
    never = await migration_status(database.engine, new.script_location)
    assert never.pending == ("0001", "0002", "0003")
    behind = await new.upgrade(database.url, "0001")
    assert (behind.state, behind.pending) == ("behind", ("0002", "0003"))
    # Oldest first: upgrading to the first pending revision applies just that one.
    step = await new.upgrade(database.url, behind.pending[0])
    assert (step.current, step.pending) == (("0002",), ("0003",))
    done = await new.upgrade(database.url)
    assert (done.state, done.pending) == ("current", ())
    assert "pending" not in done.as_dict()  # /health's details stay as they were


async def test_pending_of_a_database_ahead_or_divergent(
    database: Database, releases: tuple[Path, Migrations], tmp_path: Path
) -> None:
    old, new = releases
    await new.upgrade(database.url)
    ahead = await migration_status(database.engine, old)
    assert (ahead.state, ahead.pending) == ("ahead", ())
    await new.downgrade(database.url)
    other = Migrations(
        write_scripts(tmp_path / "other", [("0001", None, None), ("x001", None, "other")])
    )
    await other.upgrade(database.url, "heads")
    divergent = await migration_status(database.engine, old)
    # What the scripts hold beyond the revision they know (0001); x001 is not theirs.
    assert (divergent.state, divergent.pending) == ("divergent", ("0002",))


async def test_pending_includes_a_branch_the_database_never_started(
    database: Database, tmp_path: Path
) -> None:
    revisions = [("0001", None, None), ("0002", "0001", None)]
    revisions += [("x001", None, "extra"), ("x002", "x001", None)]  # a second base
    scripts = Migrations(write_scripts(tmp_path / "branched", revisions))
    at_main_head = await scripts.upgrade(database.url, "0002")
    assert (at_main_head.state, at_main_head.pending) == ("behind", ("x001", "x002"))
    everything = await scripts.upgrade(database.url, "heads")
    assert (everything.state, everything.pending) == ("current", ())
    assert set(everything.current) == {"0002", "x002"}
