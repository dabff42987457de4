"""The ``htma`` command run as a real process: exit codes, one-line errors."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from htma import Settings
from pydantic import SecretStr
from spaps_ops.testing import DEADLINE, poll

#: How long a worker or beat process may take to start on a loaded machine: a hang
#: detector, never a speed limit (a worker imports Celery, opens its broker and database).
STARTUP = 300.0

PASSWORD = "correct horse battery staple"


def test_migrate_create_admin_and_rotate_keys(htma: Any, tmp_path: Path) -> None:
    assert htma("migrate").returncode == 0
    created = htma(
        "create-admin", "--clinic", "northside", "--email", "root@northside.example",
        env={"HTMA_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "created lab admin root@northside.example" in created.stdout
    keys = tmp_path / ".data" / "htma-signing-keys.json"
    first = json.loads(keys.read_text())["keys"]
    assert keys.stat().st_mode & 0o777 == 0o600
    rotated = htma("rotate-keys", "--quiet")
    assert rotated.returncode == 0, rotated.stderr
    after = json.loads(keys.read_text())["keys"]
    assert len(after) == 2
    assert after[1]["kid"] == first[0]["kid"]  # the old key still verifies
    assert "re-sealed 0 messages" in rotated.stdout


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (
            ("create-admin", "--clinic", "x", "--email", "a@b.example"),
            {"HTMA_ADMIN_PASSWORD": PASSWORD},
            "error: clinic id must be",
        ),
        (
            ("create-admin", "--clinic", "north", "--email", "a@b.example"),
            {"HTMA_ADMIN_PASSWORD": PASSWORD},
            "error: the database schema is not up to date",
        ),
        (
            ("migrate",),
            {"HTMA_DATABASE_URL": "mysql://h/db"},
            "error: invalid setting database_url",
        ),
        (("generate-message-key", "bad id"), {}, "error: key id 'bad id' must be"),
    ],
)  # fmt: skip
def test_failures_print_one_line_and_exit_1(
    htma: Any, args: tuple[str, ...], env: dict[str, str], error: str
) -> None:
    result = htma(*args, env=env)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error)


def test_weak_admin_password_is_refused(htma: Any) -> None:
    assert htma("migrate").returncode == 0
    result = htma(
        "create-admin", "--clinic", "north", "--email", "a@b.example",
        env={"HTMA_ADMIN_PASSWORD": "short"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "too_short" in result.stderr


def test_generate_message_key_output_is_accepted_by_the_settings(htma: Any) -> None:
    result = htma("generate-message-key", "k2")
    assert result.returncode == 0
    settings = Settings(message_keys=SecretStr(result.stdout.strip()))
    assert settings.message_cipher().primary_key_id == "k2"


# --- worker and beat as long-running processes ----------------------------------------


def _schedule_files(tmp_path: Path) -> list[Path]:
    # The shelve behind beat's schedule may add a suffix (``.db``) to the name.
    return sorted((tmp_path / "beat").glob("schedule*"))


def _published(broker: Path, task: str) -> bool:
    if not broker.exists():
        return False
    with contextlib.closing(sqlite3.connect(broker)) as db:
        try:
            payloads = [row[0] for row in db.execute("SELECT payload FROM kombu_message")]
        except sqlite3.OperationalError:  # the transport has not created its table yet
            return False
    return any(task in str(payload) for payload in payloads)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(DEADLINE)


def test_beat_runs_alone_and_keeps_its_schedule_where_configured(
    start: Callable[..., Any], tmp_path: Path
) -> None:
    beat, log = start("beat")
    poll(lambda: _published(tmp_path / "broker.db", "spaps_webhooks.sweep"),
         "beat to send the webhook sweeper", deadline=STARTUP)  # fmt: skip
    assert beat.poll() is None, log.read_text()
    assert _schedule_files(tmp_path), log.read_text()
    assert not (tmp_path / ".data" / "htma-beat-schedule").exists()  # not by the keys
    _stop(beat)


@pytest.mark.parametrize(("args", "with_beat"), [((), True), (("--no-beat",), False)])
def test_worker_embeds_beat_unless_told_not_to(
    start: Callable[..., Any], tmp_path: Path, args: tuple[str, ...], with_beat: bool
) -> None:
    worker, log = start("worker", *args)
    poll(lambda: " ready." in log.read_text() or worker.poll() is not None,
         "the worker to be ready", deadline=STARTUP)  # fmt: skip
    assert worker.poll() is None, log.read_text()
    if with_beat:
        poll(lambda: bool(_schedule_files(tmp_path)), "beat's schedule file", deadline=STARTUP)
        assert "beat: Starting" in log.read_text()
    else:
        assert "beat: Starting" not in log.read_text()
        assert _schedule_files(tmp_path) == []
    _stop(worker)


def test_worker_serves_its_job_metrics_on_the_metrics_port(
    start: Callable[..., Any], tmp_path: Path
) -> None:
    worker, log = start("worker", "--no-beat", "--metrics-port", "0")
    pattern = re.compile(r"worker metrics on port (\d+) at /metrics")
    poll(lambda: pattern.search(log.read_text()) is not None or worker.poll() is not None,
         "the worker's metrics port", deadline=STARTUP)  # fmt: skip
    found = pattern.search(log.read_text())
    assert found is not None, log.read_text()
    url = f"http://127.0.0.1:{found.group(1)}/metrics"
    # The relay's metrics (spaps-jobs, on the process's global registry) are served.
    poll(lambda: "spaps_jobs_outbox_" in httpx.get(url, timeout=DEADLINE).text,
         "the relay's metrics", deadline=STARTUP)  # fmt: skip
    assert worker.poll() is None, log.read_text()
    _stop(worker)
