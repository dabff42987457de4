"""The checks to run before pushing: lint, format, types, fast tests.

    python tools/ops/pre_push.py                    # everything
    python tools/ops/pre_push.py --steps lint,format --paths tools/ops tests/deploy
    python tools/ops/pre_push.py --dry-run          # print the commands only

As a git hook: ``ln -s ../../tools/ops/pre_push.py .git/hooks/pre-push``.

Steps, in order (the first failure stops the run):

* ``lint``    ``ruff check PATHS``
* ``format``  ``ruff format --check PATHS``
* ``types``   ``mypy`` over the libraries and the services, as ``make typecheck`` runs it
* ``tests``   the test folders of the packages the change affects (``tools/affected.py``
  against ``--base``), without the tests marked ``slow``, on two workers

Exits 0 when every step passed, 1 naming the failed step in one ``error:`` line, 2 on bad
usage. The tools run from the workspace environment (``uv run --no-sync``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("lint", "format", "types", "tests")
RUN = ["uv", "run", "--no-sync"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pre_push.py", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help="comma-separated subset of: %(default)s",
    )
    parser.add_argument(
        "--paths", nargs="+", default=["."], help="what lint and format check (default: .)"
    )
    parser.add_argument("--base", help="git revision the tests step diffs against")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    return parser


def affected_test_folders(base: str | None) -> list[str]:
    """The ``tests`` folders of the packages the change since ``base`` affects."""
    command = [*RUN, "python", "tools/affected.py", "--json"]
    if base:
        command += ["--base", base]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"tools/affected.py failed: {result.stderr.strip()}")
    folders = []
    for name in json.loads(result.stdout):
        for parent in ("libs", "services"):
            tests = ROOT / parent / name / "tests"
            if tests.is_dir():
                folders.append(tests.relative_to(ROOT).as_posix())
    return folders


def commands(
    steps: Sequence[str], paths: Sequence[str], base: str | None
) -> list[tuple[str, list[str]]]:
    """(step, command) pairs to run, in order."""
    planned: list[tuple[str, list[str]]] = []
    for step in steps:
        if step == "lint":
            planned.append((step, [*RUN, "ruff", "check", *paths]))
        elif step == "format":
            planned.append((step, [*RUN, "ruff", "format", "--check", *paths]))
        elif step == "types":
            libraries = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("libs/*/src"))
            planned.append((step, [*RUN, "mypy", *libraries]))
            planned.append((step, [*RUN, "mypy", "-p", "htma", "-p", "ingredient"]))
        elif step == "tests":
            folders = affected_test_folders(base)
            if folders:
                planned.append(
                    (step, [*RUN, "pytest", "-q", "-n", "2", "-m", "not slow", *folders])
                )
    return planned


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown or not steps:
        parser.error(
            f"unknown steps {', '.join(unknown) or '(none given)'}; known: {', '.join(STEPS)}"
        )
    try:
        # The commands run from the repository root; the paths were given from here.
        paths = [str(Path(p).resolve()) for p in args.paths]
        planned = commands(steps, paths, args.base)
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    for step, command in planned:
        print(f"[{step}] {shlex.join(command)}", flush=True)
        if args.dry_run:
            continue
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            print(f"error: step {step} failed: {shlex.join(command)}", file=sys.stderr)
            return 1
    if "tests" in steps and not any(step == "tests" for step, _ in planned):
        print("[tests] no package affected: no tests to run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
