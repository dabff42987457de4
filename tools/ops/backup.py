"""Back up a service database: ``pg_dump`` custom format plus a manifest of row counts.

    python tools/ops/backup.py --service htma --output backups/htma-2026-01-31.dump
    python tools/ops/backup.py --database-url postgresql://... --output FILE.dump

The dump and the row counts come from one snapshot (``pg_export_snapshot`` shared with
``pg_dump --snapshot``), so the manifest ``FILE.dump.manifest.json`` states exactly what the
dump holds; ``restore.py`` checks a restore against it. The dump is written next to its
destination and renamed into place when complete: a failed backup leaves no file and never
replaces an existing one (``--overwrite`` allows replacing a previous backup on success).

Run it as the schema owner or a role that bypasses row-level security: counts and dump
must see every tenant's rows (a filtered role fails instead of producing a partial backup).
Every failure prints one line ``error: ...`` and exits 1; bad usage exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _postgres as pg

#: service -> the variable holding its database URL (the service's own setting).
SERVICE_URLS = {"htma": "HTMA_DATABASE_URL", "ingredient": "INGREDIENT_DATABASE_URL"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backup.py", description=(__doc__ or "").splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--database-url", help="PostgreSQL URL of the database to back up")
    source.add_argument(
        "--service",
        choices=sorted(SERVICE_URLS),
        help="back up this service's database (URL from HTMA_DATABASE_URL / "
        "INGREDIENT_DATABASE_URL)",
    )
    parser.add_argument("--output", required=True, type=Path, help="the dump file to write")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing dump (on success only)"
    )
    parser.add_argument("--pg-dump", default="pg_dump", help="pg_dump binary (%(default)s)")
    return parser


def source_url(args: argparse.Namespace) -> str:
    """The URL to back up, from ``--database-url`` or the service's variable."""
    if args.database_url:
        return str(args.database_url)
    variable = SERVICE_URLS[args.service]
    url = os.environ.get(variable)
    if not url:
        raise pg.OpsError(f"{variable} is not set (or give --database-url)")
    return url


def backup(
    url: str, output: Path, *, overwrite: bool = False, pg_dump: str = "pg_dump"
) -> dict[str, Any]:
    """Dump the database at ``url`` to ``output``, write its manifest; return the manifest."""
    conninfo = pg.libpq_url(url)
    if output.exists() and not overwrite:
        raise pg.OpsError(f"{output} exists (use --overwrite to replace it)")
    if not output.parent.is_dir():
        raise pg.OpsError(f"{output.parent} is not a directory")
    fd, partial_name = tempfile.mkstemp(
        dir=output.parent, prefix=f".{output.name}.", suffix=".part"
    )
    os.close(fd)
    partial = Path(partial_name)
    try:
        with pg.snapshot(url) as (connection, exported):
            row = connection.execute("SELECT current_setting('server_version')").fetchone()
            server_version = str(row[0]) if row else "unknown"
            counts = pg.table_counts(connection)
            # The exporting transaction stays open while pg_dump reads the same snapshot.
            result = subprocess.run(
                [pg_dump, "--format=custom", f"--snapshot={exported}", "--no-password",
                 f"--file={partial}", f"--dbname={conninfo}"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise pg.OpsError(f"pg_dump failed: {result.stderr.strip() or result.returncode}")
        manifest = {
            "format": pg.MANIFEST_FORMAT,
            "database": pg.database_name(url),
            "server_version": server_version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "dump": output.name,
            "sha256": pg.sha256(partial),
            "tables": counts,
        }
        manifest_file = pg.manifest_path(output)
        manifest_partial = manifest_file.with_name(manifest_file.name + ".part")
        manifest_partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, output)
        os.replace(manifest_partial, manifest_file)
    finally:
        partial.unlink(missing_ok=True)
        pg.manifest_path(output).with_name(pg.manifest_path(output).name + ".part").unlink(
            missing_ok=True
        )
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)

    def work() -> dict[str, Any]:
        return backup(source_url(args), args.output, overwrite=args.overwrite, pg_dump=args.pg_dump)

    manifest = pg.run_command(work)
    rows = sum(manifest["tables"].values())
    print(
        f"backed up {manifest['database']} to {args.output}: "
        f"{len(manifest['tables'])} tables, {rows} rows (manifest {pg.manifest_path(args.output)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
