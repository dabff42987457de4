"""Run every benchmark under ``bench/`` and print their figures (``make bench``).

A benchmark is a ``bench/<area>/*.py`` script that runs on its own: it ends with an
``if __name__ == "__main__":`` block. The other modules next to it are its helpers (the
apps and workers it starts: ``_apps.py``, ``loop_app.py``, ``receiver.py``,
``bench_worker_app.py``, ...) and are never run directly. Each benchmark prints its figures
and the ratios against the anchors its issue names. Benchmarks are never assertions: this
runner reports which scripts ran and which failed to run.

Usage: ``python bench/run_all.py [--list] [AREA ...]`` (``--list`` prints the scripts it
would run, one path relative to ``bench/`` a line, and runs nothing).
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def is_entry_point(script: Path) -> bool:
    """Whether ``script`` has a top-level ``if __name__ == "__main__":`` block."""
    tree = ast.parse(script.read_text(), str(script))
    for node in tree.body:
        if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
            continue
        test = node.test
        sides = [test.left, *test.comparators]
        if (
            len(sides) == 2
            and isinstance(test.ops[0], ast.Eq)
            and any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
        ):
            return True
    return False


def benchmarks(areas: list[str] | None = None) -> list[Path]:
    """The benchmark scripts of ``areas`` (all areas when empty), in a stable order."""
    return sorted(
        p
        for p in BENCH.glob("*/*.py")
        if not p.name.startswith("_")
        and (not areas or p.parent.name in areas)
        and is_entry_point(p)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="*", metavar="AREA", help="e.g. ops ratelimit")
    parser.add_argument("--list", action="store_true", help="print the scripts, run nothing")
    args = parser.parse_args(argv)
    scripts = benchmarks(args.areas)
    if args.list:
        for script in scripts:
            print(script.relative_to(BENCH).as_posix())
        return 0
    failed = []
    for script in scripts:
        name = script.relative_to(BENCH).as_posix()
        print(f"\n=== {name}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], check=False)
        print(f"=== {name}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print("benchmarks that failed to run: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
