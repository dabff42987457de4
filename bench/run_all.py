"""Run every benchmark under ``bench/`` and print their figures (``make bench``).

Each ``bench/<area>/*.py`` script (names starting with ``_`` are helpers) runs on its own
and prints its figures and the ratios against the anchors its issue names. Benchmarks are
never assertions: this runner reports which scripts ran and which failed to run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    selected = sys.argv[1:]
    scripts = sorted(
        p
        for p in BENCH.glob("*/*.py")
        if not p.name.startswith("_") and (not selected or p.parent.name in selected)
    )
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
