"""The ``ingredient`` command run as a real process: exit codes, one-line errors, progress."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 60


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INGREDIENT_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ingredient.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_migrate_then_import_on_the_embedded_default(tmp_path: Path) -> None:
    migrated = _run("migrate", cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / ".data" / "ingredient.db").is_file()
    imported = _run("import-catalog", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "imported 542 ingredients: 542 new, 0 updated, 0 unchanged"
    assert "importing ifct2017.csv.gz" in imported.stderr  # the progress bar's label
    again = _run("import-catalog", "--quiet", cwd=tmp_path)
    assert again.stdout.strip().endswith("0 new, 0 updated, 542 unchanged")
    assert again.stderr == ""


@pytest.mark.postgres
def test_import_with_migrate_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    result = _run(
        "import-catalog",
        "--migrate",
        "--quiet",
        cwd=tmp_path,
        env={"INGREDIENT_DATABASE_URL": postgres_url},
    )
    assert result.returncode == 0, result.stderr
    assert "542 new" in result.stdout
    assert _run("downgrade", "--database-url", postgres_url, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("import-catalog",),
            "error: the database schema is not up to date: run `ingredient migrate` first",
        ),
        (("import-catalog", "--file", "absent.csv"), "error: cannot read absent.csv: "),
        (("migrate", "--database-url", "mysql://x/y"), "error: invalid setting database_url: "),
        (("migrate", "--database-url", "postgresql://postgres@127.0.0.1:1/none"), "error: "),
    ],
)
def test_failures_print_one_line_and_exit_1(
    tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    result = _run(*args, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error)
    assert "Traceback" not in result.stderr


def test_create_api_key_prints_a_key_once(tmp_path: Path) -> None:
    assert _run("migrate", cwd=tmp_path).returncode == 0
    created = _run("create-api-key", "--name", "partner", "--plan", "pro", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("ik_")
    unknown = _run("create-api-key", "--name", "partner", "--plan", "gold", cwd=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: unknown plan 'gold'")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _run("import-catalog", "--bogus", cwd=tmp_path).returncode == 2
