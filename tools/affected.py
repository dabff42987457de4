"""Which workspace packages a change affects.

A file under ``libs/<dist>/`` or ``services/<name>/`` affects that package and, for a
library, every package that depends on it. A change to the shared build inputs (the root
``pyproject.toml``, ``uv.lock``, ``conftest.py``, ``tools/``, ``.github/``, ``.ci/``,
``Makefile``) affects everything. Documentation-only changes outside a package affect nothing.

Usage::

    python tools/affected.py [--base REV] [--json] [FILE ...]

With no FILE, the files changed between ``--base`` (default ``origin/main``, else ``HEAD~1``)
and the working tree are used.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable

from workspace import ROOT, Package, dependents, load

EVERYTHING = ("pyproject.toml", "uv.lock", "conftest.py", "Makefile", "tools/", ".github/", ".ci/")


def affected(packages: dict[str, Package], files: Iterable[str]) -> list[str]:
    result: set[str] = set()
    for file in files:
        if file.startswith(EVERYTHING) or file in EVERYTHING:
            return sorted(packages)
        for pkg in packages.values():
            if file.startswith(pkg.rel + "/"):
                result.add(pkg.name)
                result |= dependents(packages, pkg.name)
    return sorted(result)


def changed_files(base: str | None) -> list[str]:
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)

    if base is None:
        base = (
            "origin/main"
            if git("rev-parse", "--verify", "-q", "origin/main").returncode == 0
            else "HEAD~1"
        )
    diff = git("diff", "--name-only", base)
    if diff.returncode != 0:
        raise SystemExit(f"error: cannot diff against {base!r}: {diff.stderr.strip()}")
    untracked = git("ls-files", "--others", "--exclude-standard").stdout
    return [line for line in (diff.stdout + untracked).splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="List the workspace packages a change affects.")
    parser.add_argument("files", nargs="*", help="changed files (default: from git)")
    parser.add_argument("--base", help="git revision to diff against")
    parser.add_argument("--json", action="store_true", help="print a JSON list (for a CI matrix)")
    args = parser.parse_args(argv)
    names = affected(load(), args.files or changed_files(args.base))
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
