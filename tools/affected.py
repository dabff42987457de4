"""Which workspace packages a change affects.

A file under ``libs/<dist>/`` or ``services/<name>/`` affects that package and, for a
library, every package that depends on it. A change to the shared build inputs (the root
``pyproject.toml``, ``uv.lock``, ``conftest.py``, ``.python-version``, ``tools/``,
``.github/``, ``.ci/``, ``Makefile``) affects everything. A file outside the packages that a
package's tests read (``READS``) affects that package. Anything else (documentation outside
the packages) affects nothing.

``READS`` is checked, not trusted: when ``SPAPS_RECORD_READS`` names a folder, the root
``conftest.py`` records every file of this repository that a package's tests open, and
``--verify-reads FOLDER`` fails naming each read that this module does not map to the
package whose tests made it (``make test`` runs it after the suites).

Usage::

    python tools/affected.py [--base REV] [--json] [FILE ...]
    python tools/affected.py --verify-reads FOLDER

With no FILE, the files changed between ``--base`` (default ``origin/main``, else ``HEAD~1``)
and the working tree are used. A base that is missing or all zeros (the first push of a
branch or a tag) affects everything.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from workspace import ROOT, Package, dependents, load

EVERYTHING = (
    "pyproject.toml",
    "uv.lock",
    "conftest.py",
    ".python-version",
    "Makefile",
    "tools/",
    ".github/",
    ".ci/",
)

# Files outside a package's folder that its tests read (a folder ends with "/").
READS: dict[str, tuple[str, ...]] = {
    "services/conftest.py": ("htma", "ingredient"),
    "docs/spaps-ops.md": ("spaps-ops",),
    "docs/graphql-auth.md": ("spaps-auth",),
    "docs/graphql-ops.md": ("spaps-ops",),
    "docs/graphql-ratelimit.md": ("spaps-ratelimit",),
    "docs/graphql-tenancy.md": ("spaps-tenancy",),
    "examples/": ("spaps-ops",),
}


def _matches(file: str, pattern: str) -> bool:
    return file.startswith(pattern) if pattern.endswith("/") else file == pattern


def affected(packages: dict[str, Package], files: Iterable[str]) -> list[str]:
    result: set[str] = set()
    for file in files:
        if any(_matches(file, shared) for shared in EVERYTHING):
            return sorted(packages)
        owners = {n for pattern, names in READS.items() if _matches(file, pattern) for n in names}
        owners |= {pkg.name for pkg in packages.values() if file.startswith(pkg.rel + "/")}
        for name in owners & set(packages):
            result.add(name)
            result |= dependents(packages, name)
    return sorted(result)


def unmapped_reads(packages: dict[str, Package], reads: dict[str, set[str]]) -> list[str]:
    """Reads (package -> files it opened) that a change to the file would not test."""
    problems = []
    for name, files in sorted(reads.items()):
        if name not in packages:
            continue
        for file in sorted(files):
            if name not in affected(packages, [file]):
                problems.append(f"{name}'s tests read {file}, which tools/affected.py does not map")
    return problems


def load_reads(folder: Path) -> dict[str, set[str]]:
    reads: dict[str, set[str]] = {}
    for path in folder.glob("*.json"):
        for name, files in json.loads(path.read_text()).items():
            reads.setdefault(name, set()).update(files)
    return reads


def changed_files(base: str | None) -> list[str]:
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)

    if base is None:
        base = (
            "origin/main"
            if git("rev-parse", "--verify", "-q", "origin/main").returncode == 0
            else "HEAD~1"
        )
    if base.strip("0") == "" or git("cat-file", "-e", f"{base}^{{commit}}").returncode != 0:
        return list(EVERYTHING)  # no usable base: everything is affected
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
    parser.add_argument("--verify-reads", type=Path, help="folder of recorded test reads")
    args = parser.parse_args(argv)
    if args.verify_reads is not None:
        reads = load_reads(args.verify_reads)
        if not reads:
            print(f"error: no recorded reads in {args.verify_reads}", file=sys.stderr)
            return 2
        problems = unmapped_reads(load(), reads)
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        if not problems:
            print(f"every file read by the tests of {len(reads)} packages is mapped")
        return 1 if problems else 0
    names = affected(load(), args.files or changed_files(args.base))
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
