"""The ``htma`` command run as a real process: exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from htma import Settings
from pydantic import SecretStr

TIMEOUT = 60
PASSWORD = "correct horse battery staple"


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HTMA_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "htma.cli", *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip


def test_migrate_create_admin_and_rotate_keys(tmp_path: Path) -> None:
    assert _run("migrate", cwd=tmp_path).returncode == 0
    created = _run(
        "create-admin", "--clinic", "northside", "--email", "root@northside.example",
        cwd=tmp_path, env={"HTMA_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "created lab admin root@northside.example" in created.stdout
    keys = tmp_path / ".data" / "htma-signing-keys.json"
    first = json.loads(keys.read_text())["keys"]
    assert keys.stat().st_mode & 0o777 == 0o600
    rotated = _run("rotate-keys", "--quiet", cwd=tmp_path)
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
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], error: str
) -> None:
    result = _run(*args, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error)


def test_weak_admin_password_is_refused(tmp_path: Path) -> None:
    assert _run("migrate", cwd=tmp_path).returncode == 0
    result = _run(
        "create-admin", "--clinic", "north", "--email", "a@b.example", cwd=tmp_path,
        env={"HTMA_ADMIN_PASSWORD": "short"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "too_short" in result.stderr


def test_generate_message_key_output_is_accepted_by_the_settings(tmp_path: Path) -> None:
    result = _run("generate-message-key", "k2", cwd=tmp_path)
    assert result.returncode == 0
    settings = Settings(message_keys=SecretStr(result.stdout.strip()))
    assert settings.message_cipher().primary_key_id == "k2"
