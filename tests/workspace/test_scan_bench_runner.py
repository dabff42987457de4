"""``bench/run_all.py`` runs the benchmarks and never their helper apps.

A helper is a module another benchmark script starts or imports: a ``uvicorn``/``celery``
target (``"loop_app:create_app"``, ``run_worker("_worker_app", ...)``) or an ``import``.
Run directly, a helper would either do nothing or sit serving forever.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*/*.py"))


def listed(*areas: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--list", *areas],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout.splitlines()


def helpers() -> set[str]:
    """Scripts (relative to ``bench/``) that another script of their area starts or imports."""
    found = set()
    for script in SCRIPTS:
        stem = re.escape(script.stem)
        patterns = (
            rf"""["']{stem}:\w""",  # a uvicorn or celery target "module:attribute"
            rf"""(run_worker\(|-A["']?,?\s*)["']?{stem}\b""",  # a celery app module
            rf"^\s*(from|import)\s+{stem}\b",  # imported by the benchmark
        )
        used = re.compile("|".join(patterns), re.MULTILINE)
        others = (p for p in script.parent.glob("*.py") if p != script)
        if any(used.search(other.read_text()) for other in others):
            found.add(script.relative_to(BENCH).as_posix())
    return found


def test_run_all_lists_benchmarks_and_no_helper_app() -> None:
    scripts = listed()
    assert scripts == sorted(scripts)
    assert len(scripts) >= 10
    helper_apps = helpers()
    # The detection itself finds the helpers the benchmarks are known to start.
    assert {
        "auth/loop_app.py",
        "backbone/_apps.py",
        "jobs/_worker_app.py",
        "ratelimit/_apps.py",
        "webhooks/bench_worker_app.py",
        "webhooks/receiver.py",
    } <= helper_apps
    assert not set(scripts) & helper_apps, "run_all.py would run a helper app"
    # Nothing is silently dropped: every script is either run or a helper of one that is.
    everything = {p.relative_to(BENCH).as_posix() for p in SCRIPTS if p.parent != BENCH}
    assert everything == set(scripts) | helper_apps


def test_run_all_list_by_area() -> None:
    assert listed("webhooks") == [
        "webhooks/delivery.py",
        "webhooks/fan_out_kills.py",
        "webhooks/sign_verify.py",
    ]
    assert listed("nothing-here") == []
