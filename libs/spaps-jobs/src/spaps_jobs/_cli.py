"""Command line: ``python -m spaps_jobs`` (also the ``spaps-jobs`` console script).

``relay``          run an outbox relay built by a factory (``module:callable``)
``dead-letters``   list / show / requeue dead letters
``check``          warn about delivery guarantees the configuration cannot keep
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import create_engine

from ._check import check_configuration
from ._dead_letters import DeadLetterStore
from ._errors import SpapsJobsError
from ._relay import Relay

__all__ = ["main"]


def load(path: str) -> Any:
    """Import ``module:attribute`` (the attribute may be dotted)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"expected 'module:attribute', got {path!r}")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spaps-jobs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    relay = commands.add_parser("relay", help="publish the outbox until stopped")
    relay.add_argument("--factory", required=True, help="module:callable returning a Relay")
    relay.add_argument("--once", action="store_true", help="drain what is pending, then exit")

    dead = commands.add_parser("dead-letters", help="inspect and requeue dead letters")
    dead.add_argument("action", choices=["list", "show", "requeue"])
    dead.add_argument("id", nargs="?", type=int, help="dead letter id (show, requeue)")
    dead.add_argument("--url", required=True, help="SQLAlchemy URL of the dead-letter store")
    dead.add_argument("--table", default="spaps_dead_letters", help="table name")
    dead.add_argument("--app", help="module:attribute of the Celery app (requeue)")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument("--all", action="store_true", help="include requeued ones")

    check = commands.add_parser("check", help="warn about promises the broker cannot keep")
    check.add_argument("--app", required=True, help="module:attribute of the Celery app")
    check.add_argument("--relay", help="module:callable returning the service's Relay")
    check.add_argument(
        "--ignore", action="append", default=[], metavar="CODE", help="accept a finding"
    )
    return parser


def _check(args: argparse.Namespace) -> int:
    relay = load(args.relay)() if args.relay else None
    findings = [
        f for f in check_configuration(load(args.app), relay=relay) if f.code not in args.ignore
    ]
    for finding in findings:
        print(f"{finding.severity}: {finding.code}: {finding.message}")
    warnings = sum(f.severity == "warning" for f in findings)
    print(f"{warnings} warning(s), {len(findings) - warnings} note(s)")
    return 1 if warnings else 0


def _relay(args: argparse.Namespace) -> int:
    relay = load(args.factory)()
    if not isinstance(relay, Relay):
        raise SystemExit(f"{args.factory} returned {type(relay).__name__}, not a Relay")
    if args.once:
        total = 0
        while (count := relay.run_once()) > 0:
            total += count
        print(f"relayed {total}")
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    relay.run_forever(stop=stop)
    return 0


def _dead_letters(args: argparse.Namespace) -> int:
    store = DeadLetterStore(create_engine(args.url), table_name=args.table)
    if args.action == "list":
        print("id\ttask\tattempts\tfailed_at\terror")
        for letter in store.list(limit=args.limit, include_requeued=args.all):
            error = letter.error.replace("\t", " ").replace("\n", " ")[:120]
            print(
                f"{letter.id}\t{letter.task_name}\t{letter.attempts}\t"
                f"{letter.failed_at.isoformat()}\t{error}"
            )
        return 0
    if args.id is None:
        raise SystemExit(f"dead-letters {args.action} needs an id")
    if args.action == "show":
        print(json.dumps(asdict(store.get(args.id)), default=str, indent=2))
        return 0
    if not args.app:
        raise SystemExit("dead-letters requeue needs --app module:attribute")
    task_id = store.requeue(args.id, load(args.app))
    print(f"requeued dead letter {args.id} as task {task_id}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "relay":
            return _relay(args)
        if args.command == "check":
            return _check(args)
        return _dead_letters(args)
    except SpapsJobsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
