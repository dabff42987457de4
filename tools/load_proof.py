"""Prove that test files do not depend on the machine's speed.

Runs the given test files ``--runs`` times in a row (default 20) with ``pytest -n 4``
while a busy loop burns every CPU core in other processes, so the tests compete for the
processor as on a loaded CI machine. The first failing run stops the proof: its output is
printed and the exit status is 1. Each run prints one line; the end prints a summary.

Usage::

    uv run --no-sync python tools/load_proof.py FILE [FILE ...] [--runs 20] [--workers 4]
        [--burners N] [-- PYTEST-ARGS ...]

The environment is passed through (set ``SPAPS_REQUIRE_SERVICES=1`` so nothing skips).
Timings in the per-run lines are information, never a pass criterion.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from multiprocessing.synchronize import Event
from pathlib import Path

SUMMARY = re.compile(r"^=*\s*(?P<text>\d+ \w+.*?)\s*=*$")


def burn(stop: Event, parent: int) -> None:
    """Keep one core busy until ``stop`` is set or the parent process is gone (a killed
    proof leaves no busy loop behind); both are checked every 100k iterations."""
    counter = 0
    while not stop.is_set() and os.getppid() == parent:
        for _ in range(100_000):
            counter += 1


def start_burners(count: int) -> tuple[Event, list[multiprocessing.process.BaseProcess]]:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    burners = [
        context.Process(target=burn, args=(stop, os.getpid()), name=f"burner-{i}", daemon=True)
        for i in range(count)
    ]
    for process in burners:
        process.start()
    return stop, burners


def stop_burners(stop: Event, burners: Sequence[multiprocessing.process.BaseProcess]) -> None:
    stop.set()
    for process in burners:
        process.join(10)
        if process.is_alive():  # only our own children, by object
            process.terminate()
            process.join()


def pytest_command(files: Sequence[str], workers: int, extra: Sequence[str]) -> list[str]:
    command = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider"]
    if workers > 0:
        command += ["-n", str(workers)]
    return command + list(extra)


def summary_of(output: str) -> str:
    """pytest's closing line (``12 passed in 3.4s``), or a placeholder."""
    for line in reversed(output.strip().splitlines()):
        match = SUMMARY.match(line.strip())
        if match:
            return match.group("text")
    return "no pytest summary"


def prove(
    files: Sequence[str], *, runs: int, workers: int, burners: int, extra: Sequence[str]
) -> int:
    command = pytest_command(files, workers, extra)
    print(
        f"load proof: {len(files)} files, {runs} runs, pytest -n {workers}, "
        f"{burners} busy-loop processes on {os.cpu_count()} cores",
        flush=True,
    )
    stop, processes = start_burners(burners)
    passed = 0
    started = time.monotonic()
    try:
        for run in range(1, runs + 1):
            dead = [p.name for p in processes if not p.is_alive()]
            if dead:
                print(f"load proof: busy loops died ({', '.join(dead)}): no load", flush=True)
                return 2
            run_started = time.monotonic()
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            took = time.monotonic() - run_started
            load = os.getloadavg()[0]
            status = "passed" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
            print(
                f"run {run}/{runs}: {status}: {summary_of(result.stdout)} "
                f"[{took:.1f}s, load {load:.1f}]",
                flush=True,
            )
            if result.returncode != 0:
                print(result.stdout[-20_000:], result.stderr[-5_000:], sep="\n", flush=True)
                print(
                    f"load proof: FAILED at run {run}/{runs} after {passed} passing runs",
                    flush=True,
                )
                return 1
            passed += 1
    finally:
        stop_burners(stop, processes)
    print(
        f"load proof: {passed}/{runs} runs passed in a row under load "
        f"({time.monotonic() - started:.0f}s)",
        flush=True,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        extra = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="test files (or node ids) to run")
    parser.add_argument("--runs", type=int, default=20, help="runs in a row (default 20)")
    parser.add_argument(
        "--workers", type=int, default=4, help="pytest-xdist workers, 0 for none (default 4)"
    )
    parser.add_argument(
        "--burners",
        type=int,
        default=os.cpu_count() or 1,
        help="busy-loop processes (default: one per core)",
    )
    parsed = parser.parse_args(args)
    if parsed.runs < 1 or parsed.workers < 0 or parsed.burners < 1:
        parser.error("--runs and --burners must be >= 1, --workers >= 0")
    missing = [f for f in parsed.files if not Path(f.split("::")[0]).exists()]
    if missing:
        parser.error(f"no such test file: {', '.join(missing)}")
    return prove(
        parsed.files, runs=parsed.runs, workers=parsed.workers, burners=parsed.burners, extra=extra
    )


if __name__ == "__main__":
    sys.exit(main())
