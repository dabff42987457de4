"""``python -m spaps_tenancy export|erase|import``: tenant data on the command line."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import IO

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ._audit import AuditRecord, log_audit_record
from ._errors import SpapsTenancyError
from ._progress import progress_reporter
from ._rls import DEFAULT_SETTING
from ._transfer import erase_tenant, export_tenant, import_tenant

PROG = "spaps-tenancy"


class CliError(Exception):
    """A failure reported as one line on stderr with exit code 1."""


def load_metadata(spec: str) -> MetaData:
    """Load ``module:attr``: a ``MetaData`` or anything with ``.metadata`` (a declarative base)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise CliError(f"--metadata must look like 'package.module:attribute', got {spec!r}")
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"cannot import {module_name!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CliError(f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    metadata = target if isinstance(target, MetaData) else getattr(target, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise CliError(f"{spec!r} is neither a MetaData nor a declarative base")
    return metadata


def _engine(url: str) -> Engine:
    try:
        engine = create_engine(url)
    except ArgumentError as exc:
        raise CliError(f"invalid --database-url: {exc}") from None
    except ImportError as exc:
        raise CliError(f"cannot load the database driver for --database-url: {exc}") from None
    if engine.dialect.is_async:
        engine.dispose()
        raise CliError(
            "--database-url needs a synchronous driver (e.g. postgresql+psycopg://, sqlite://)"
        )
    return engine


def _audit_to_stderr(record: AuditRecord) -> None:
    log_audit_record(record)
    line = {
        "action": record.action,
        "tenant_id": record.tenant_id,
        "actor": record.actor,
        "reason": record.reason,
        "details": dict(record.details),
        "at": record.at.isoformat(),
    }
    print("audit:", json.dumps(line), file=sys.stderr)


@contextlib.contextmanager
def _open(path: str, mode: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout if "w" in mode else sys.stdin
        return
    try:
        handle = open(path, mode, encoding="utf-8")  # noqa: SIM115  # closed below; stdin/stdout are not
    except OSError as exc:
        raise CliError(f"cannot open {path!r}: {exc.strerror}") from None
    with handle:
        yield handle


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Export, erase or import one tenant's rows."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("export", "stream the tenant's rows to JSON Lines"),
        ("erase", "delete every row of the tenant (GDPR erasure), with an audit entry"),
        ("import", "insert rows from an export file"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument(
            "--database-url", required=True, help="SQLAlchemy URL with a synchronous driver"
        )
        sub.add_argument(
            "--metadata", required=True, help="module:attribute of the MetaData or declarative base"
        )
        sub.add_argument("--tenant", required=True, help="the tenant id")
        sub.add_argument("--actor", default="cli", help="who runs the command, for the audit entry")
        sub.add_argument("--tenant-column", default="tenant_id", help="name of the tenant column")
        sub.add_argument(
            "--rls-setting",
            default=DEFAULT_SETTING,
            help="PostgreSQL setting read by RLS policies ('' to not set it)",
        )
        if name == "export":
            sub.add_argument("--output", "-o", default="-", help="file to write ('-': stdout)")
        if name == "import":
            sub.add_argument("--input", "-i", default="-", help="file to read ('-': stdin)")
        if name == "erase":
            sub.add_argument(
                "--reason", required=True, help="why (e.g. the erasure request reference)"
            )
            sub.add_argument("--yes", action="store_true", help="confirm the erasure")
        if name != "erase":
            sub.add_argument("--batch-size", type=int, default=1000, help="rows per round trip")
            sub.add_argument(
                "--progress",
                action=argparse.BooleanOptionalAction,
                default=None,
                help="show a progress bar on stderr (default: when stderr is a terminal)",
            )
    return parser


def _run(args: argparse.Namespace) -> str:
    metadata = load_metadata(args.metadata)
    engine = _engine(args.database_url)
    common = {
        "column": args.tenant_column,
        "rls_setting": args.rls_setting or None,
        "audit": _audit_to_stderr,
        "actor": args.actor,
    }
    try:
        if args.command == "erase":
            if not args.yes:
                raise CliError("erase deletes every row of the tenant: add --yes to confirm")
            with engine.begin() as connection:
                counts = erase_tenant(
                    connection, metadata, args.tenant, reason=args.reason, **common
                )
            return f"erased {sum(counts.values())} rows of tenant {args.tenant}"
        show = sys.stderr.isatty() if args.progress is None else args.progress
        if args.batch_size < 1:
            raise CliError("--batch-size must be >= 1")
        with progress_reporter(enabled=show) as progress:
            if args.command == "export":
                with _open(args.output, "w") as out, engine.begin() as connection:
                    counts = export_tenant(
                        connection,
                        metadata,
                        args.tenant,
                        out,
                        batch_size=args.batch_size,
                        progress=progress,
                        **common,
                    )
                return f"exported {sum(counts.values())} rows of tenant {args.tenant}"
            with _open(args.input, "r") as source, engine.begin() as connection:
                counts = import_tenant(
                    connection,
                    metadata,
                    args.tenant,
                    source,
                    batch_size=args.batch_size,
                    progress=progress,
                    **common,
                )
            return f"imported {sum(counts.values())} rows of tenant {args.tenant}"
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code (0 ok, 1 failure, 2 usage).

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    .. versionadded:: 0.1.0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        summary = _run(args)
    except (CliError, SpapsTenancyError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"{PROG}: error: database: {first}", file=sys.stderr)
        return 1
    print(f"{PROG}: {summary}", file=sys.stderr)
    return 0
