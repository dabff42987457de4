"""Restore a backup into a fresh database and verify the row counts of every table.

    python tools/ops/restore.py --input FILE.dump --database-url postgresql://.../htma_restored
    python tools/ops/restore.py --input FILE.dump --database-url URL --create
    python tools/ops/restore.py --input FILE.dump --database-url URL --source-url SOURCE

The target must be empty (no table in any user schema): a restore never merges into
live data. ``--create`` creates the target database first (and drops it again if the
restore fails). ``pg_restore`` runs in a single transaction, so a failed restore leaves
the target as it was. Then every table's row count is compared with the backup's manifest
(``FILE.dump.manifest.json``, whose checksum must match the dump), or with the live
database at ``--source-url``. Owners and grants are restored as dumped (the application
role's privileges included); ``--no-owner`` gives everything to the restoring role instead.

Every failure prints one line ``error: ...`` and exits 1 (a count mismatch too); bad
usage exits 2.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import _postgres as pg
import psycopg
from psycopg import sql


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restore.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--input", required=True, type=Path, help="the dump (from backup.py)")
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL of the target")
    parser.add_argument("--create", action="store_true", help="create the target database")
    parser.add_argument(
        "--source-url", help="compare counts with this live database instead of the manifest"
    )
    parser.add_argument(
        "--no-owner", action="store_true", help="objects owned by the restoring role"
    )
    parser.add_argument("--pg-restore", default="pg_restore", help="binary (%(default)s)")
    return parser


def expected_counts(dump: Path, source_url: str | None) -> dict[str, int]:
    """The counts to reach: the live source's, or the manifest's (checked against the dump)."""
    if source_url:
        with pg.snapshot(source_url) as (connection, _):
            return pg.table_counts(connection)
    tables = pg.read_manifest(dump)["tables"]
    return {str(name): int(count) for name, count in tables.items()}


def _create(url: str) -> None:
    admin = pg.with_database(url, "postgres")
    with pg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg.database_name(url)))
        )


def _drop(url: str) -> None:
    admin = pg.with_database(url, "postgres")
    with pg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(pg.database_name(url))
            )
        )


def _require_empty(url: str) -> None:
    with pg.connect(url) as connection:
        tables = pg.table_counts(connection)
    if tables:
        raise pg.OpsError(
            f"the target database {pg.database_name(url)} is not empty "
            f"({len(tables)} tables): restore into a fresh database"
        )


def restore(
    dump: Path,
    url: str,
    *,
    create: bool = False,
    source_url: str | None = None,
    no_owner: bool = False,
    pg_restore: str = "pg_restore",
) -> tuple[dict[str, int], dict[str, int]]:
    """Restore ``dump`` into the database at ``url``; return (expected, restored) counts."""
    conninfo = pg.libpq_url(url)
    if not dump.is_file():
        raise pg.OpsError(f"{dump} is not a file")
    expected = expected_counts(dump, source_url)
    created = False
    if create:
        _create(url)
        created = True
    try:
        _require_empty(url)
        command = [pg_restore, "--single-transaction", "--exit-on-error", "--no-password",
                   f"--dbname={conninfo}"]  # fmt: skip
        if no_owner:
            command.append("--no-owner")
        result = subprocess.run([*command, str(dump)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise pg.OpsError(f"pg_restore failed: {result.stderr.strip() or result.returncode}")
        with pg.connect(url) as connection:
            restored = pg.table_counts(connection)
    except (pg.OpsError, psycopg.Error, OSError):
        if created:
            _drop(url)
        raise
    return expected, restored


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)

    def work() -> tuple[dict[str, int], dict[str, int]]:
        return restore(
            args.input,
            args.database_url,
            create=args.create,
            source_url=args.source_url,
            no_owner=args.no_owner,
            pg_restore=args.pg_restore,
        )

    expected, restored = pg.run_command(work)
    width = max((len(t) for t in expected | restored), default=5)
    print(f"{'table':<{width}}  {'expected':>9}  {'restored':>9}")
    for table in sorted(expected | restored):
        print(f"{table:<{width}}  {expected.get(table, '-')!s:>9}  {restored.get(table, '-')!s:>9}")
    problems = pg.compare_counts(expected, restored)
    if problems:
        pg.fail(f"restored row counts differ: {'; '.join(problems)}")
    print(f"restored {len(restored)} tables, {sum(restored.values())} rows: counts match")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
