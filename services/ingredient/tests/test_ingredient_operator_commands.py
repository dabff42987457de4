"""The operator commands as real processes, on both back ends: ``migrate status``,
``seed``, ``backfill search-index`` and ``run-scheduled``; each twice (same state), and
bad input answered with one line on stderr and a non-zero exit."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from ingredient import Settings
from ingredient.catalog.models import Ingredient
from ingredient.catalog.service import search_ingredients
from ingredient.cli import main
from ingredient.db import OUTBOX, WEBHOOK_TABLES, create_sessionmaker
from ingredient.events import INGREDIENT_UPDATED, SUBSCRIBER, IngredientUpdatedV1, build_webhooks
from ingredient.migrate import MIGRATIONS, MIGRATIONS_DIR
from spaps_ops.db import open_engine
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

Run = Callable[..., subprocess.CompletedProcess[str]]
CATALOG_SIZE = 542  # the IFCT 2017 seed shipped with the service


@pytest.fixture
def ingredient(run_command: Run, tmp_path: Path) -> Run:
    """``ingredient(*args)``: the ``ingredient`` command in a fresh directory."""
    return functools.partial(run_command, "ingredient.cli", cwd=tmp_path)


def ok(ingredient: Run, *args: str) -> subprocess.CompletedProcess[str]:
    done = ingredient(*args)
    assert done.returncode == 0, done.stderr
    return done


def status_of(ingredient: Run, url: str, *args: str) -> dict[str, str]:
    lines = ok(ingredient, "migrate", "status", "--database-url", url, *args).stdout
    return dict(line.split(": ", 1) for line in lines.splitlines())


def oldest_first() -> list[str]:
    """The service's revisions, oldest first (as Alembic orders them)."""
    return [s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()][::-1]


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["migrate", "status"],
        ["seed"],
        ["backfill"],
        ["backfill", "search-index"],
        ["run-scheduled"],
    ],
)
def test_every_operator_command_has_help(command: list[str]) -> None:
    shown = CliRunner().invoke(main, [*command, "--help"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Usage: ")
    assert "--help" in shown.output


def test_migrate_status_shows_current_and_pending_revisions(
    ingredient: Run, database_url: str
) -> None:
    revisions = oldest_first()
    assert status_of(ingredient, database_url) == {
        "current": "none",
        "head": revisions[-1],
        "pending": ", ".join(revisions),
        "state": "behind",
    }
    # The upgrade is called as before: `migrate`, `migrate --revision X`.
    ok(ingredient, "migrate", "--revision", revisions[1], "--database-url", database_url)
    behind = status_of(ingredient, database_url)
    assert (behind["current"], behind["pending"]) == (revisions[1], ", ".join(revisions[2:]))
    assert ok(ingredient, "migrate", "--database-url", database_url).stdout == (
        "database at revision head\n"
    )
    current = {"current": revisions[-1], "head": revisions[-1], "pending": "none",
               "state": "current"}  # fmt: skip
    assert status_of(ingredient, database_url) == current
    assert status_of(ingredient, database_url) == current  # reading changes nothing
    # The database named on the group, as the upgrade takes it, counts for status too.
    given_first = ok(ingredient, "migrate", "--database-url", database_url, "status").stdout
    assert "state: current" in given_first.splitlines()


async def test_seed_creates_what_is_missing_and_keeps_what_is_there(
    ingredient: Run, database_url: str
) -> None:
    first = ok(ingredient, "seed", "--migrate", "--database-url", database_url)
    assert first.stdout == f"catalog: {CATALOG_SIZE} ingredients created, 0 found\n"
    assert "seeding ifct2017.csv.gz" in first.stderr  # the progress bar's label
    again = ok(ingredient, "seed", "--quiet", "--database-url", database_url)
    assert again.stdout == f"catalog: 0 ingredients created, {CATALOG_SIZE} found\n"
    assert again.stderr == ""
    # An editor's change survives seeding; a lost ingredient comes back.
    async with open_engine(database_url) as engine, engine.begin() as conn:
        await conn.execute(update(Ingredient).where(Ingredient.code == "A001").values(name="Mine"))
        await conn.execute(delete(Ingredient).where(Ingredient.code == "A002"))
    healed = ok(ingredient, "seed", "--quiet", "--database-url", database_url)
    assert healed.stdout == f"catalog: 1 ingredients created, {CATALOG_SIZE - 1} found\n"
    async with open_engine(database_url) as engine, engine.connect() as conn:
        rows = await conn.execute(select(Ingredient.code, Ingredient.name))
        names = dict(rows.all())
    assert len(names) == CATALOG_SIZE
    assert names["A001"] == "Mine"
    assert names["A002"] != "Mine"


async def search_codes(database_url: str, query: str) -> list[str]:
    async with open_engine(database_url) as engine, create_sessionmaker(engine)() as session:
        page = await search_ingredients(session, query, limit=1000, offset=0)
    return [ingredient.code for ingredient, _ in page.items]


EMPTY_FTS_INDEX = text("INSERT INTO ingredients_fts(ingredients_fts) VALUES ('delete-all')")


async def last_writers(database_url: str) -> dict[int, str]:
    """PostgreSQL: each ingredient row's last writing transaction (``xmin``)."""
    async with open_engine(database_url) as engine, engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, xmin::text FROM ingredients"))
        return dict(rows.all())


async def test_backfill_rebuilds_the_search_index(ingredient: Run, seeded_url: str) -> None:
    found = await search_codes(seeded_url, "spinach")
    assert found
    postgres = seeded_url.startswith("postgresql")
    if postgres:  # a generated column cannot be made stale: see that it is rewritten
        before = await last_writers(seeded_url)
    else:  # an index no longer matching its rows (a restore of the table alone)
        async with open_engine(seeded_url) as engine, engine.begin() as conn:
            await conn.execute(EMPTY_FTS_INDEX)
        assert await search_codes(seeded_url, "spinach") == []
    rebuilt = ok(ingredient, "backfill", "search-index", "--batch-size", "50",
                 "--database-url", seeded_url)  # fmt: skip
    assert rebuilt.stdout == f"search index: {CATALOG_SIZE} ingredients indexed\n"
    assert "indexing ingredients" in rebuilt.stderr
    assert await search_codes(seeded_url, "spinach") == found
    if postgres:
        after = await last_writers(seeded_url)
        assert after.keys() == before.keys()
        assert all(after[key] != before[key] for key in before)
    again = ok(ingredient, "backfill", "search-index", "--quiet", "--database-url", seeded_url)
    assert again.stdout == rebuilt.stdout
    assert again.stderr == ""
    assert await search_codes(seeded_url, "spinach") == found


def outbox_state(database_url: str, message_id: str) -> tuple[Any, ...]:
    runtime = build_webhooks(Settings(database_url=database_url))
    try:
        with runtime.engine.connect() as conn:
            row = conn.execute(
                select(OUTBOX.table).where(OUTBOX.table.c.message_id == message_id)
            ).one()
            messages = WEBHOOK_TABLES.messages
            fanned_out = conn.scalar(
                select(messages.c.fanned_out_at).where(messages.c.id == message_id)
            )
    finally:
        runtime.close()
    return row.publishes, row.confirmed_at is not None, fanned_out is not None


async def test_run_scheduled_runs_a_delivery_pass_now(ingredient: Run, database_url: str) -> None:
    await MIGRATIONS.upgrade(database_url)
    runtime = build_webhooks(Settings(database_url=database_url))
    try:
        event = IngredientUpdatedV1(code="A001", name="Oats", version=2, changed=["name"])
        with Session(runtime.engine) as session:
            message_id = runtime.webhooks.publish(
                session, INGREDIENT_UPDATED, event, owner=SUBSCRIBER
            )
            session.commit()
    finally:
        runtime.close()
    assert outbox_state(database_url, message_id) == (0, False, False)
    ran = ok(ingredient, "run-scheduled", "webhooks.deliver", "--database-url", database_url)
    assert ran.stdout == "ran webhooks.deliver: 0\n"  # relayed; no endpoint to attempt
    assert "task.succeeded" in ran.stderr  # the task's log lines stay off stdout
    assert outbox_state(database_url, message_id) == (1, True, True)
    again = ok(ingredient, "run-scheduled", "webhooks.deliver", "--database-url", database_url)
    assert again.stdout == ran.stdout
    assert outbox_state(database_url, message_id) == (1, True, True)


NOT_MIGRATED = "error: the database schema is not up to date: run `ingredient migrate` first"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("run-scheduled", "nightly"),
         "error: no schedule named 'nightly' (known: retention.jobs.dead_letters, "
         "retention.jobs.outbox, retention.webhooks.deliveries, retention.webhooks.messages, "
         "webhooks.deliver)"),
        (("run-scheduled", "webhooks.deliver"), NOT_MIGRATED),
        (("seed",), NOT_MIGRATED),
        (("backfill", "search-index"), NOT_MIGRATED),
        (("migrate", "status", "--database-url", "mysql://x/y"),
         "error: invalid setting database_url: "),
        (("migrate", "status", "--database-url", "postgresql://postgres@127.0.0.1:1/none"),
         "error: "),
    ],
)  # fmt: skip
def test_bad_input_prints_one_line_and_exits_1(
    ingredient: Run, args: tuple[str, ...], error: str
) -> None:
    result = ingredient(*args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("backfill", "search-index", "--batch-size", "0"),
        ("migrate", "--revision", "0001", "status"),
        ("run-scheduled",),
    ],
)
def test_usage_errors_exit_2(ingredient: Run, args: tuple[str, ...]) -> None:
    result = ingredient(*args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
