"""The operator commands run as real processes: ``migrate status``, ``seed``, ``backfill
ratios``, ``run-scheduled``, ``erase-tenant``, ``erase-user`` and ``erasure-status``;
each refuses bad input with one line and a non-zero exit."""

from __future__ import annotations

import asyncio
import base64
import functools
import re
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from htma import Settings
from htma.db import OUTBOX
from htma.erasure.service import ERASURE_REQUESTED
from htma.migrate import MIGRATIONS
from htma.worker import create_worker
from spaps_jobs import MESSAGE_ID_HEADER
from sqlalchemy import select

from .conftest import PASSWORD, ClientFactory

#: Every revision, oldest first.
REVISIONS = [
    r.revision
    for r in ScriptDirectory.from_config(MIGRATIONS.alembic_config("sqlite://")).walk_revisions()
][::-1]
#: A webhook sealing key, so building the worker logs no "plaintext secrets" warning.
SEALING = {"HTMA_WEBHOOK_SEALING_KEYS": "k1:" + base64.b64encode(b"k" * 32).decode()}


def one_line_error(result: Any, starts: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {starts}"), lines[0]


def test_migrate_status_shows_the_current_and_pending_revisions(htma: Any) -> None:
    fresh = htma("migrate", "status")
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.splitlines() == [
        "current: none (never migrated)", f"head: {REVISIONS[-1]}",
        f"pending: {' '.join(REVISIONS)}",
    ]  # fmt: skip
    assert htma("migrate", "--revision", "0006").returncode == 0  # as before: upgrades
    behind = htma("migrate", "status")
    assert "current: 0006" in behind.stdout
    assert f"pending: {' '.join(REVISIONS[REVISIONS.index('0006') + 1 :])}" in behind.stdout
    one_line_error(htma("migrate", "status", "--check"), "the database schema is behind")
    migrated = htma("migrate")
    assert (migrated.returncode, migrated.stdout.strip()) == (0, "database at revision head")
    current = htma("migrate", "status", "--check")
    assert current.returncode == 0, current.stderr
    assert "pending: none" in current.stdout
    one_line_error(
        htma("migrate", "status", env={"HTMA_DATABASE_URL": "mysql://h/db"}),
        "invalid setting database_url",
    )
    assert "status" in htma("migrate", "--help").stdout


def test_seed_creates_what_is_missing_once(htma: Any) -> None:
    one_line_error(htma("seed"), "the database schema is not up to date")
    assert htma("migrate").returncode == 0
    admin = htma("create-admin", "--clinic", "northside", "--email", "a@northside.example",
                 env={"HTMA_ADMIN_PASSWORD": PASSWORD})  # fmt: skip
    assert admin.returncode == 0, admin.stderr
    first = htma("seed")
    assert first.returncode == 0, first.stderr
    assert "created organisation of clinic northside" in first.stdout
    assert "found   token signing keys" in first.stdout  # create-admin made them
    again = htma("seed")
    assert again.returncode == 0, again.stderr
    assert "found   organisation of clinic northside" in again.stdout
    assert again.stdout.splitlines()[-1] == "seed: 0 created, 3 found"


def test_run_scheduled_runs_a_beat_entry_now(htma: Any) -> None:
    one_line_error(  # the sweeper reads the webhook tables: a failed task is one line too
        htma("run-scheduled", "spaps_webhooks.sweep", env=SEALING), "database error"
    )
    assert htma("migrate").returncode == 0
    swept = htma("run-scheduled", "spaps_webhooks.sweep", env=SEALING)
    assert swept.returncode == 0, swept.stderr
    assert "ran spaps_webhooks.sweep: 0" in swept.stdout  # nothing was due
    unknown = htma("run-scheduled", "nightly", env=SEALING)
    one_line_error(unknown, "no schedule named 'nightly' (known: ")
    assert "spaps_webhooks.sweep" in unknown.stderr  # the known names are listed


def test_commands_have_help(htma: Any) -> None:
    for command in (("seed",), ("backfill", "ratios"), ("run-scheduled",), ("erase-tenant",),
                    ("erase-user",), ("erasure-status",), ("migrate", "status")):  # fmt: skip
        shown = htma(*command, "--help")
        assert shown.returncode == 0, (command, shown.stderr)
        assert "Usage:" in shown.stdout


# --- on a database the app wrote (both back ends) --------------------------------------


async def test_backfill_ratios_computes_the_missing_results(
    htma: Any, database_url: str, make_client: ClientFactory
) -> None:
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, compute_mode="worker") as client:
        clinic = await client.clinic("northside")
        panels = [(await client.submit_panel(clinic)).json()["id"] for _ in range(2)]
        pending = await client.http.get(f"/v1/panels/{panels[0]}/result", headers=clinic.admin)
        assert pending.status_code == 409  # no worker ran
        env = {"HTMA_DATABASE_URL": database_url, "HTMA_INGREDIENT_URL": "http://127.0.0.1:9"}
        run = functools.partial(htma, env=env)
        none = await asyncio.to_thread(run, "backfill", "ratios", "--clinic", "northside",
                                       "--since", "2030-01-01")  # fmt: skip
        assert (
            none.stdout.strip() == "computed 0 results of 0 panels in clinic northside (0 had one)"
        )
        done = await asyncio.to_thread(run, "backfill", "ratios", "--clinic", "northside")
        assert done.returncode == 0, done.stderr
        assert "computed 2 results of 2 panels in clinic northside" in done.stdout
        for panel in panels:
            result = await client.http.get(f"/v1/panels/{panel}/result", headers=clinic.admin)
            assert result.status_code == 200
            assert result.json()["analysis"]["ratios"]
        again = await asyncio.to_thread(run, "backfill", "ratios", "--clinic", "northside")
        assert "computed 0 results of 2 panels in clinic northside (2 had one)" in again.stdout
        one_line_error(
            await asyncio.to_thread(run, "backfill", "ratios", "--clinic", "southside"),
            "no clinic 'southside'",
        )
        one_line_error(
            await asyncio.to_thread(run, "backfill", "ratios", "--clinic", "Bad Clinic"),
            "clinic id must be",
        )
    bad_date = htma("backfill", "ratios", "--clinic", "northside", "--since", "yesterday")
    assert bad_date.returncode == 2  # click's usage error
    assert "Invalid value for '--since'" in bad_date.stderr


async def test_erase_commands_queue_or_run_now_and_report_the_status(
    htma: Any, database_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    await MIGRATIONS.upgrade(database_url)
    env = {"HTMA_DATABASE_URL": database_url}
    run = functools.partial(htma, env=env)
    async with make_client(database_url=database_url, session_check_ttl=0) as client:
        alpha, bravo = await client.clinic("alpha"), await client.clinic("bravo")
        assert (await client.submit_panel(alpha)).status_code == 202

        # erase-user by e-mail, queued: the worker's task runs it
        queued = await asyncio.to_thread(run, "erase-user", "patient@bravo.example",
                                         "--reason", "request 7")  # fmt: skip
        assert queued.returncode == 0, queued.stderr
        match = re.search(r"queued erasure (\w+) of user (\w+)", queued.stdout)
        assert match is not None, queued.stdout
        erasure_id = match.group(1)
        assert match.group(2) == bravo.patient_id
        twice = await asyncio.to_thread(run, "erase-user", bravo.patient_id, "--reason", "again")
        assert f"erasure {erasure_id} of user {bravo.patient_id} is already queued" in twice.stdout
        worker = create_worker(Settings(
            database_url=database_url, broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}",
            signing_keys_path=tmp_path / "keys.json",
        ))  # fmt: skip
        try:
            t = OUTBOX.table
            with worker.runtime.sync_engine.connect() as conn:
                [row] = conn.execute(select(t).where(t.c.topic == ERASURE_REQUESTED)).all()
            applied = await asyncio.to_thread(
                worker.celery.tasks[ERASURE_REQUESTED].apply, args=[row.payload],
                headers={MESSAGE_ID_HEADER: row.message_id},
            )  # fmt: skip
            assert applied.successful(), applied.traceback
        finally:
            worker.runtime.close()
        status = await asyncio.to_thread(run, "erasure-status", erasure_id)
        assert status.returncode == 0, status.stderr
        assert status.stdout.splitlines()[0] == f"erasure {erasure_id}: done"
        assert "users=1" in status.stdout
        assert (await client.login("patient@bravo.example")).status_code == 401

        # erase-tenant --now: in this process, with a progress bar on stderr
        now = await asyncio.to_thread(run, "erase-tenant", "alpha", "--reason", "closing", "--now")
        assert now.returncode == 0, now.stderr
        assert "erased clinic alpha" in now.stdout
        assert "panels=1" in now.stdout
        assert "erasing tenant alpha" in now.stderr  # the bar's label
        tenant_id = re.search(r"\(erasure (\w+)\)", now.stdout)
        assert tenant_id is not None
        polled = await client.http.get(f"/v1/erasures/{tenant_id.group(1)}")
        assert polled.json()["status"] == "done"
        assert (await client.http.get("/v1/me", headers=alpha.admin)).status_code == 401
        assert (await client.http.get("/v1/me", headers=bravo.admin)).status_code == 200

        for args, error in [
            (("erase-tenant", "alpha", "--reason", "again"), "no clinic 'alpha'"),
            (("erase-tenant", "bravo", "--reason", "  "), "an erasure needs a reason"),
            (("erase-user", "nobody@bravo.example", "--reason", "x"), "no user"),
            (("erasure-status", "0123456789abcdef"), "no erasure request '0123456789abcdef'"),
        ]:
            one_line_error(await asyncio.to_thread(run, *args), error)
    missing = htma("erase-tenant", "bravo")
    assert missing.returncode == 2  # --reason is required: click's usage error
