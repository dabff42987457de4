"""The other operations scripts through their command lines: every one has ``--help`` and
fails bad input in one line; migrations.py reports and applies each service's migrations
on the real PostgreSQL; pre_push.py runs its steps and stops at the first failure."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import deploykit as kit
import psycopg
import pytest
from psycopg import sql

TOOLS = ["backup", "restore", "migrations", "pre_push", "config_reference"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd,
        timeout=kit.HANG * 3, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_explains_itself(tool: str) -> None:
    result = run(kit.OPS_TOOLS / f"{tool}.py", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ")
    assert result.stderr == ""


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_refuses_bad_usage_in_one_error_line(tool: str) -> None:
    result = run(kit.OPS_TOOLS / f"{tool}.py", "--no-such-option")
    assert result.returncode == 2
    usage, error = result.stderr.strip().split(f"\n{tool}.py: error: ")
    assert usage.startswith("usage: ")
    assert "\n" not in error


# --- migrations.py ---------------------------------------------------------------------------

MIGRATIONS = kit.OPS_TOOLS / "migrations.py"


@pytest.fixture
def second_database(postgres_url: str, unique_name: str) -> Iterator[str]:
    """Another fresh database on the same server (each service has its own)."""
    name = f"{unique_name}_second"
    admin = urlsplit(postgres_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.postgres
def test_status_and_apply_through_each_service_migrations(
    postgres_url: str, second_database: str
) -> None:
    urls = {"htma": postgres_url, "ingredient": second_database}
    for service, url in urls.items():
        head = importlib.import_module(f"{service}.migrate").MIGRATIONS
        args = ("--service", service, "--database-url", url)
        pending = run(MIGRATIONS, "status", *args)
        assert pending.returncode == 3, pending.stderr
        assert pending.stdout == (
            f"{service}: at none (empty database), head {head.head_revision()}: pending\n"
        )
        applied = run(MIGRATIONS, "apply", *args)
        assert applied.returncode == 0, applied.stderr
        status = run(MIGRATIONS, "status", *args)
        assert status.returncode == 0
        revision = head.head_revision()
        assert status.stdout == f"{service}: at {revision}, head {revision}: up to date\n"
        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            assert row == (revision,)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@/nowhere?host=/nonexistent-socket-dir", "error: "),
        ("mysql://root@db/app", "error: database_url: "),
    ],
)
def test_migrations_fail_in_one_line(url: str, message: str) -> None:
    result = run(MIGRATIONS, "status", "--service", "htma", "--database-url", url)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(message)


def test_one_database_url_for_two_services_is_a_usage_error() -> None:
    result = run(MIGRATIONS, "status", "--database-url", "sqlite:///x.db")
    assert result.returncode == 2
    assert "--database-url needs exactly one --service" in result.stderr


def test_without_a_url_each_service_uses_its_own_settings(tmp_path: Path) -> None:
    # The services' SQLite defaults, under the working directory, as `<service> migrate`.
    applied = run(MIGRATIONS, "apply", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert [line.split(":")[0] for line in applied.stdout.splitlines()] == list(kit.SERVICES)
    assert (tmp_path / ".data" / "htma.db").is_file()
    assert (tmp_path / ".data" / "ingredient.db").is_file()


# --- pre_push.py -----------------------------------------------------------------------------

PRE_PUSH = kit.OPS_TOOLS / "pre_push.py"


def test_pre_push_plans_lint_format_types_and_tests() -> None:
    result = run(PRE_PUSH, "--dry-run", "--base", "HEAD")
    assert result.returncode == 0, result.stderr
    steps = [line.split("]")[0].lstrip("[") for line in result.stdout.splitlines()]
    assert steps[:4] == ["lint", "format", "types", "types"]
    assert steps[-1] == "tests"


def test_pre_push_passes_clean_code_and_stops_at_the_first_failing_step(tmp_path: Path) -> None:
    clean = tmp_path / "clean.py"
    clean.write_text('"""A module."""\n\nVALUE = 1\n')
    passed = run(PRE_PUSH, "--steps", "lint,format", "--paths", clean)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("import os\nVALUE   =  1\n")  # unused import, unformatted
    failed = run(PRE_PUSH, "--steps", "lint,format", "--paths", broken)
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1].startswith("error: step lint failed")
    assert "[format]" not in failed.stdout, "the run stops at the first failure"


def test_pre_push_refuses_an_unknown_step() -> None:
    result = run(PRE_PUSH, "--steps", "lint,deploy")
    assert result.returncode == 2
    assert "unknown steps deploy" in result.stderr


# --- the documented key bootstrap and rotation (docs/operations.md, "Rotating keys") --------


def test_the_documented_signing_key_rotation_makes_and_rotates_the_key_file(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "HTMA_SIGNING_KEYS_PATH": "htma-signing-keys.json"}

    def htma(*args: str) -> None:
        result = subprocess.run(
            ["htma", *args], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=kit.HANG, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    def kids() -> list[str]:
        document = json.loads((tmp_path / "htma-signing-keys.json").read_text())
        return [key["kid"] for key in document["keys"]]

    htma("migrate", "--database-url", "sqlite:///scratch.db")
    htma("rotate-keys", "--database-url", "sqlite:///scratch.db", "--quiet", "--keep", "0")
    [first] = kids()
    htma("rotate-keys", "--database-url", "sqlite:///scratch.db", "--quiet")
    assert kids()[1:] == [first], "the new key signs, the previous one keeps verifying"
    assert (tmp_path / "htma-signing-keys.json").stat().st_mode & 0o077 == 0
