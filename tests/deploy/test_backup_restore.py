"""tools/ops/backup.py and restore.py on the real PostgreSQL: a service's database, migrated
and filled by the service's own commands, backed up, restored into a fresh database and
verified table by table; and the failures (bad URL, non-empty target, corrupt dump, count
mismatch) reported in one line with nothing lost."""

from __future__ import annotations

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

pytestmark = pytest.mark.postgres

BACKUP = kit.OPS_TOOLS / "backup.py"
RESTORE = kit.OPS_TOOLS / "restore.py"
# A server that cannot be reached, without any port: a socket folder that does not exist.
UNREACHABLE = "postgresql://postgres@/nowhere?host=/nonexistent-socket-dir"


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True,
        env=env, timeout=kit.HANG, check=False,
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        found = {}
        for schema, table in tables:
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            row = connection.execute(query).fetchone()
            assert row is not None
            found[f"{schema}.{table}"] = row[0]
        return found


def admin(url: str) -> str:
    return urlsplit(url)._replace(path="/postgres").geturl()


def drop(url: str) -> None:
    name = urlsplit(url).path.strip("/")
    with psycopg.connect(admin(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def exists(url: str) -> bool:
    name = urlsplit(url).path.strip("/")
    with psycopg.connect(admin(url)) as connection:
        row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return row.fetchone() is not None


@pytest.fixture
def target_url(postgres_url: str, unique_name: str) -> Iterator[str]:
    """The URL of a database that does not exist yet (dropped after the test if created)."""
    url = urlsplit(postgres_url)._replace(path=f"/{unique_name}_restored").geturl()
    yield url
    drop(url)


@pytest.fixture
def empty_target(target_url: str) -> str:
    with psycopg.connect(admin(target_url), autocommit=True) as connection:
        name = urlsplit(target_url).path.strip("/")
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return target_url


@pytest.fixture(params=kit.SERVICES)
def source(request: pytest.FixtureRequest, postgres_url: str, tmp_path: Path) -> str:
    """A service database migrated and filled through the service's own commands."""
    service = request.param
    password = "correct horse battery staple 42"  # pragma: allowlist secret -- a test value
    env = {**os.environ, "HTMA_ADMIN_PASSWORD": password}
    commands = {
        "htma": [
            ["htma", "migrate"],
            ["htma", "create-admin", "--clinic", "northside", "--email", "a@north.example"],
        ],
        "ingredient": [
            ["ingredient", "import-catalog", "--migrate", "--quiet"],
            ["ingredient", "create-api-key", "--name", "backup-test"],
        ],
    }[service]
    for command in commands:
        result = subprocess.run(
            [*command, "--database-url", postgres_url], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=kit.HANG, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return postgres_url


def test_a_backup_restores_into_a_fresh_database_with_every_row(
    source: str, empty_target: str, target_url: str, tmp_path: Path
) -> None:
    dump = tmp_path / "service.dump"
    backed_up = run(BACKUP, "--database-url", source, "--output", dump)
    assert backed_up.returncode == 0, backed_up.stderr
    manifest = json.loads((tmp_path / "service.dump.manifest.json").read_text())
    assert manifest["tables"] == counts(source)
    assert sum(manifest["tables"].values()) > 2, "the service wrote rows"
    restored = run(RESTORE, "--input", dump, "--database-url", empty_target)
    assert restored.returncode == 0, restored.stderr
    assert "counts match" in restored.stdout
    assert counts(empty_target) == counts(source)
    # Against the live source instead of the manifest, into a database it creates.
    (tmp_path / "service.dump.manifest.json").unlink()
    created = urlsplit(target_url)._replace(path=urlsplit(target_url).path + "_2").geturl()
    try:
        again = run(
            RESTORE, "--input", dump, "--database-url", created, "--create",
            "--source-url", source,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert counts(created) == counts(source)
    finally:
        drop(created)


def test_the_service_variable_names_the_database(postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "INGREDIENT_DATABASE_URL": postgres_url}
    result = run(BACKUP, "--service", "ingredient", "--output", tmp_path / "i.dump", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "i.dump").stat().st_size > 0
    unset = {k: v for k, v in os.environ.items() if k != "HTMA_DATABASE_URL"}
    missing = run(BACKUP, "--service", "htma", "--output", tmp_path / "h.dump", env=unset)
    assert "HTMA_DATABASE_URL is not set" in one_line_error(missing)


@pytest.mark.parametrize(
    ("url", "message"),
    [(UNREACHABLE, "connection"), ("mysql://root@db/app", "not a PostgreSQL URL")],
)
def test_a_failed_backup_reports_one_line_and_loses_nothing(
    url: str, message: str, tmp_path: Path
) -> None:
    previous = tmp_path / "nightly.dump"
    previous.write_bytes(b"the previous backup")
    result = run(BACKUP, "--database-url", url, "--output", previous, "--overwrite")
    assert message in one_line_error(result)
    assert previous.read_bytes() == b"the previous backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nightly.dump"], "no partial file"


def test_a_backup_never_replaces_a_file_unless_asked(postgres_url: str, tmp_path: Path) -> None:
    previous = tmp_path / "nightly.dump"
    previous.write_bytes(b"the previous backup")
    result = run(BACKUP, "--database-url", postgres_url, "--output", previous)
    assert "exists" in one_line_error(result)
    assert previous.read_bytes() == b"the previous backup"


@pytest.fixture
def small_source(postgres_url: str) -> str:
    """A database with two tables and a few rows, written with SQL."""
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE TABLE clinics (id text PRIMARY KEY, name text NOT NULL)")
        connection.execute("CREATE TABLE panels (id serial PRIMARY KEY, clinic text)")
        connection.execute("INSERT INTO clinics VALUES ('north', 'North'), ('south', 'South')")
        connection.execute("INSERT INTO panels (clinic) SELECT 'north' FROM generate_series(1, 7)")
    return postgres_url


@pytest.fixture
def backup_of(small_source: str, tmp_path: Path) -> Path:
    dump = tmp_path / "small.dump"
    assert run(BACKUP, "--database-url", small_source, "--output", dump).returncode == 0
    return dump


def test_a_restore_refuses_a_database_that_is_not_empty(backup_of: Path, small_source: str) -> None:
    before = counts(small_source)
    assert before == {"public.clinics": 2, "public.panels": 7}
    result = run(RESTORE, "--input", backup_of, "--database-url", small_source)
    assert "is not empty" in one_line_error(result)
    assert counts(small_source) == before


def test_a_restore_refuses_an_unreachable_target(backup_of: Path) -> None:
    result = run(RESTORE, "--input", backup_of, "--database-url", UNREACHABLE)
    assert "connection" in one_line_error(result)


def test_a_corrupt_dump_is_refused_before_anything_is_restored(
    backup_of: Path, empty_target: str
) -> None:
    backup_of.write_bytes(backup_of.read_bytes()[:-100])
    result = run(RESTORE, "--input", backup_of, "--database-url", empty_target)
    assert "does not match its manifest" in one_line_error(result)
    assert counts(empty_target) == {}


def test_a_failing_restore_drops_the_database_it_created(backup_of: Path, target_url: str) -> None:
    # A truncated dump whose manifest was rewritten to match: pg_restore itself fails.
    backup_of.write_bytes(backup_of.read_bytes()[:-100])
    manifest_file = backup_of.with_name(backup_of.name + ".manifest.json")
    manifest = json.loads(manifest_file.read_text())
    manifest["sha256"] = kit.load_tool("_postgres").sha256(backup_of)
    manifest_file.write_text(json.dumps(manifest))
    result = run(RESTORE, "--input", backup_of, "--database-url", target_url, "--create")
    assert "pg_restore failed" in one_line_error(result)
    assert not exists(target_url)


def test_a_count_that_differs_from_the_manifest_fails_the_restore(
    backup_of: Path, empty_target: str
) -> None:
    manifest_file = backup_of.with_name(backup_of.name + ".manifest.json")
    manifest = json.loads(manifest_file.read_text())
    table = max(manifest["tables"], key=manifest["tables"].get)
    manifest["tables"][table] += 1
    manifest_file.write_text(json.dumps(manifest))
    result = run(RESTORE, "--input", backup_of, "--database-url", empty_target)
    line = one_line_error(result)
    assert "restored row counts differ" in line
    assert f"{table}: expected" in line


def test_counts_and_dump_see_one_snapshot_while_writes_go_on(
    small_source: str, empty_target: str, tmp_path: Path
) -> None:
    """What backup.py relies on: a write committed after the snapshot is in neither the
    counts nor the dump taken with it."""
    pg = kit.load_tool("_postgres")
    dump = tmp_path / "snapshot.dump"
    with pg.snapshot(small_source) as (connection, exported):
        level = connection.execute("SHOW transaction_isolation").fetchone()
        assert level == ("repeatable read",)
        before = pg.table_counts(connection)
        with psycopg.connect(small_source) as writer:
            writer.execute("INSERT INTO panels (clinic) VALUES ('south')")
        assert counts(small_source)["public.panels"] == before["public.panels"] + 1
        assert pg.table_counts(connection) == before
        subprocess.run(
            ["pg_dump", "--format=custom", f"--snapshot={exported}", f"--file={dump}",
             f"--dbname={pg.libpq_url(small_source)}"],
            check=True, capture_output=True, timeout=kit.HANG,
        )  # fmt: skip
    subprocess.run(
        ["pg_restore", "--single-transaction", f"--dbname={empty_target}", str(dump)],
        check=True, capture_output=True, timeout=kit.HANG,
    )  # fmt: skip
    assert counts(empty_target) == before
