"""The ``htma`` command run as a real process: exit codes, one-line errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from htma import Settings
from pydantic import SecretStr

PASSWORD = "correct horse battery staple"


@pytest.fixture
def htma(run_command: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    """``htma(*args, env=None)``: the ``htma`` command in a fresh directory."""
    return functools.partial(run_command, "htma.cli", cwd=tmp_path)


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
