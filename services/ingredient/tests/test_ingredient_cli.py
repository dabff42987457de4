"""The ``ingredient`` command run as a real process: exit codes, one-line errors, progress."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def ingredient(run_command: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    """``ingredient(*args, env=None)``: the ``ingredient`` command in a fresh directory."""
    return functools.partial(run_command, "ingredient.cli", cwd=tmp_path)


def test_migrate_then_import_on_the_embedded_default(ingredient: Any, tmp_path: Path) -> None:
    migrated = ingredient("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / ".data" / "ingredient.db").is_file()
    imported = ingredient("import-catalog")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "imported 542 ingredients: 542 new, 0 updated, 0 unchanged"
    assert "importing ifct2017.csv.gz" in imported.stderr  # the progress bar's label
    again = ingredient("import-catalog", "--quiet")
    assert again.stdout.strip().endswith("0 new, 0 updated, 542 unchanged")
    assert again.stderr == ""


@pytest.mark.postgres
def test_import_with_migrate_on_postgres(postgres_url: str, ingredient: Any) -> None:
    result = ingredient(
        "import-catalog",
        "--migrate",
        "--quiet",
        env={"INGREDIENT_DATABASE_URL": postgres_url},
    )
    assert result.returncode == 0, result.stderr
    assert "542 new" in result.stdout
    assert ingredient("downgrade", "--database-url", postgres_url).returncode == 0


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
    ingredient: Any, args: tuple[str, ...], error: str
) -> None:
    result = ingredient(*args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error)
    assert "Traceback" not in result.stderr


def test_create_api_key_prints_a_key_once(ingredient: Any) -> None:
    assert ingredient("migrate").returncode == 0
    created = ingredient("create-api-key", "--name", "partner", "--plan", "pro")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("ik_")
    unknown = ingredient("create-api-key", "--name", "partner", "--plan", "gold")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: unknown plan 'gold'")


def test_usage_errors_exit_2(ingredient: Any) -> None:
    assert ingredient("import-catalog", "--bogus").returncode == 2
