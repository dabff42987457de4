"""What the backup and restore scripts share: PostgreSQL URLs, row counts, manifests, errors.

Stdlib plus psycopg (a dependency of both services). ``pg_dump`` and ``pg_restore`` come
from the PostgreSQL client tools on ``PATH``; they should be of the server's major version
or newer.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

T = TypeVar("T")

#: Schemes the services' settings accept for PostgreSQL (their drivers' spellings).
SCHEMES = (
    "postgresql",
    "postgres",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
)
MANIFEST_FORMAT = 1


class OpsError(Exception):
    """A failure reported as one line ``error: ...`` with exit status 1."""


def fail(message: str, status: int = 1) -> NoReturn:
    """Print ``error: <first line of message>`` on stderr and exit with ``status``."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first}", file=sys.stderr)
    raise SystemExit(status)


def run_command(main: Callable[[], T]) -> T:
    """Run ``main``; any expected failure becomes one ``error:`` line and exit status 1."""
    try:
        return main()
    except (OpsError, psycopg.Error, OSError, ValueError) as exc:
        fail(str(exc) or type(exc).__name__)


def libpq_url(url: str) -> str:
    """``url`` as libpq (``pg_dump``, psycopg) reads it: the driver suffix removed.

    Raises:
        ValueError: not a PostgreSQL URL with a database name.
    """
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a PostgreSQL URL (expected postgresql://...): {redact(url)}")
    if not parts.path.strip("/"):
        raise ValueError(f"the URL names no database: {redact(url)}")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def database_name(url: str) -> str:
    """The database a URL names."""
    return urlsplit(url).path.strip("/")


def with_database(url: str, name: str) -> str:
    """``url`` naming another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@contextmanager
def connect(url: str, **options: Any) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection to ``url`` (any of :data:`SCHEMES`), closed afterwards."""
    with psycopg.connect(libpq_url(url), connect_timeout=10, **options) as connection:
        yield connection


@contextmanager
def snapshot(url: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """A read-only repeatable-read transaction on ``url`` and its exported snapshot id.

    Everything read in the transaction, and by ``pg_dump --snapshot=<id>`` while it is
    open, sees the database as of the same instant, whatever commits meanwhile.
    """
    with connect(url) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        if row is None:
            raise OpsError("the server exported no snapshot")
        try:
            yield connection, str(row[0])
        finally:
            connection.rollback()


def table_counts(connection: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows per table (``schema.table``) of every user schema, in the current transaction.

    Row security is off: a role whose reads row-level security would filter gets an
    error instead of a short count (``pg_dump`` refuses such a role the same way).
    """
    connection.execute("SET LOCAL row_security = off")
    tables = connection.execute(
        "SELECT n.nspname, c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = connection.execute(query).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(dump: Path) -> Path:
    """Where the manifest of ``dump`` lives: next to it, ``<dump>.manifest.json``."""
    return dump.with_name(dump.name + ".manifest.json")


def read_manifest(dump: Path) -> dict[str, Any]:
    """The manifest of ``dump``, checked against the file.

    Raises:
        OpsError: missing, unreadable, of another format, or not matching the dump.
    """
    path = manifest_path(dump)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpsError(
            f"no manifest {path} (give --source-url to compare with the source)"
        ) from None
    except ValueError as exc:
        raise OpsError(f"{path} is not a backup manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise OpsError(f"{path} is not a backup manifest of format {MANIFEST_FORMAT}")
    if manifest.get("sha256") != sha256(dump):
        raise OpsError(f"{dump} does not match its manifest (sha256 differs): corrupt or replaced")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(n, int) for n in tables.values()):
        raise OpsError(f"{path} has no table counts")
    return manifest


def compare_counts(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    """One line per table whose count differs (or that is missing on either side)."""
    problems = []
    for table in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(table), actual.get(table)
        if want != got:
            problems.append(f"{table}: expected {_show(want)}, restored {_show(got)}")
    return problems


def _show(count: int | None) -> str:
    return "no table" if count is None else f"{count} rows"
