"""``python -m spaps_webhooks``: operator commands (``rotate-secrets``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from sqlalchemy import create_engine

from ._errors import SecretSealingError
from ._reseal import ResealProgress, reseal_secrets
from ._sealing import DEFAULT_KEYS_ENV, SecretSealer

_BAR_WIDTH = 30


def progress_bar(stream: TextIO, *, width: int = _BAR_WIDTH) -> ResealProgress:
    """A :data:`ResealProgress` drawing ``[#####.....] done/total`` on ``stream``.

    Args:
        stream: Where to draw (a terminal redraws the line; a log gets one line each).
        width: Characters of the bar.

    .. versionadded:: 0.3.0
    """
    end = "\r" if stream.isatty() else "\n"

    def draw(done: int, total: int) -> None:
        filled = width if total == 0 else width * done // total
        stream.write(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        if done >= total and end == "\r":
            stream.write("\n")
        stream.flush()

    return draw


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m spaps_webhooks")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser(
        "rotate-secrets",
        help="re-seal every endpoint secret under the first configured key",
        description=(
            "Re-seal every stored endpoint signing secret under the first key of the "
            f"keys variable (default {DEFAULT_KEYS_ENV}: comma-separated <kid>:<base64>, "
            "the new key first, the old ones after it). Remove the old keys once it reports "
            "0 skipped."
        ),
    )
    rotate.add_argument("--database-url", required=True, help="synchronous SQLAlchemy URL")
    rotate.add_argument("--table", default="webhook_endpoints", help="the endpoints table")
    rotate.add_argument("--batch-size", type=int, default=100, help="rows per transaction")
    rotate.add_argument("--keys-env", default=DEFAULT_KEYS_ENV, help="variable holding the keys")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run a command; returns the exit status (0 done, 1 rows left, 2 usage or key error).

    .. versionadded:: 0.3.0
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        sealer = SecretSealer.from_env(args.keys_env)
    except ValueError as exc:
        err.write(f"error: {args.keys_env}: {exc}\n")
        return 2
    if sealer is None:
        err.write(f"error: {args.keys_env} is not set: no sealing keys\n")
        return 2
    engine = create_engine(args.database_url)
    try:
        report = reseal_secrets(
            engine,
            args.table,
            sealer,
            batch_size=args.batch_size,
            on_progress=progress_bar(err),
        )
    except SecretSealingError as exc:
        err.write(f"error: {exc}\n")
        return 2
    finally:
        engine.dispose()
    out.write(
        f"{report.rows} endpoints, {report.resealed} re-sealed under {sealer.primary_kid!r}, "
        f"{report.skipped} skipped\n"
    )
    return 1 if report.skipped else 0
