"""Migration status and upgrades of the services' databases, through each service's own
migration code (``htma.migrate.MIGRATIONS``, ``ingredient.migrate.MIGRATIONS``).

    python tools/ops/migrations.py status                    # both services
    python tools/ops/migrations.py status --service htma --database-url postgresql://...
    python tools/ops/migrations.py apply --service ingredient

The database URL of a service is ``--database-url`` (with one ``--service``) or else the
service's own settings (``HTMA_DATABASE_URL``, ``INGREDIENT_DATABASE_URL``, ``.env``, the
default SQLite file), exactly as ``htma migrate`` / ``ingredient migrate`` read it.

``status`` prints one line per service and exits 0 when every database is at head, 3 when
one has migrations pending (for deploy gates: ``status`` before rolling pods out). ``apply``
upgrades to head. Every failure prints one line ``error: ...`` and exits 1; bad usage exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Any

from pydantic import ValidationError
from spaps_ops.db import MigrationStatus
from sqlalchemy.exc import SQLAlchemyError

SERVICES = ("htma", "ingredient")
PENDING = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migrations.py", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("action", choices=["status", "apply"])
    parser.add_argument(
        "--service", choices=SERVICES, action="append", help="repeatable; default: both"
    )
    parser.add_argument("--database-url", help="the database (with exactly one --service)")
    return parser


def _migrations(service: str) -> Any:
    return importlib.import_module(f"{service}.migrate").MIGRATIONS


def database_url(service: str, override: str | None) -> str:
    """The URL ``<service> migrate`` would use: ``override`` or the service's settings."""
    settings_class = importlib.import_module(f"{service}.settings").Settings
    settings = settings_class(database_url=override) if override else settings_class()
    return str(settings.database_url)


def describe(service: str, status: MigrationStatus) -> str:
    """``htma: at 0003, head 0004: pending``."""
    current = ", ".join(status.current) or "none (empty database)"
    state = "up to date" if status.up_to_date else "pending"
    return f"{service}: at {current}, head {', '.join(status.heads)}: {state}"


async def _run(action: str, services: list[str], override: str | None) -> int:
    pending = False
    for service in services:
        url = database_url(service, override)
        migrations = _migrations(service)
        if action == "apply":
            status = await migrations.upgrade(url)
        else:
            status = await migrations.status(url)
        pending = pending or not status.up_to_date
        print(describe(service, status), flush=True)
    return PENDING if pending else 0


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):  # a bad URL or setting: name the field
        first = exc.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    services = args.service or list(SERVICES)
    if args.database_url and len(services) != 1:
        parser.error("--database-url needs exactly one --service")
    try:
        return asyncio.run(_run(args.action, services, args.database_url))
    except (SQLAlchemyError, OSError, ValueError, RuntimeError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
