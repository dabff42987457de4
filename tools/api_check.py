"""Public-API check of each library against its previous release point (griffe).

A breaking change (a public name removed, a parameter made required or removed, ...) needs
the right bump: a minor one while the version is 0.x, a major one from 1.0 on. The check
compares the working tree with the newest release point of an *older* version, or, when the
version has not been bumped since its last release, with that release; it fails naming the
changed symbols when the bump between them is too small.

Usage::

    python tools/api_check.py [DIST ...]     every library by default; exit 1 on a finding
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import griffe
import releases
from packaging.version import Version
from workspace import Package, load


def bump_allows_breaking(old: str, part_or_new: str) -> bool:
    """Whether going from ``old`` by ``part_or_new`` (a part, or the new version) may break."""
    before = Version(old)
    if part_or_new in {"major", "minor", "patch"}:
        part = part_or_new
    else:
        after = Version(part_or_new)
        if after.major != before.major:
            part = "major"
        elif after.minor != before.minor:
            part = "minor"
        else:
            part = "patch"
    return part == "major" or (part == "minor" and before.major == 0)


def previous(pkg: Package) -> releases.ReleasePoint | None:
    """The newest release point of a version older than the working tree's."""
    points = releases.load().get(pkg.name, [])
    older = [p for p in points if Version(p.version) < Version(pkg.version)]
    return max(older, key=lambda p: Version(p.version)) if older else None


def latest(pkg: Package) -> releases.ReleasePoint | None:
    """The release the next bump starts from: the current version's, else the previous one."""
    points = releases.load().get(pkg.name, [])
    same = [p for p in points if p.version == pkg.version]
    return same[0] if same else previous(pkg)


def _load(module: str, src: Path) -> griffe.Module:
    loaded = griffe.load(module, search_paths=[src], resolve_aliases=True, resolve_external=False)
    assert isinstance(loaded, griffe.Module)
    return loaded


def breaking_changes(pkg: Package, point: releases.ReleasePoint | None) -> list[str]:
    """One line per breaking change of ``pkg``'s public API since the release ``point``."""
    if point is None:
        return []
    module = pkg.name.replace("-", "_")
    with tempfile.TemporaryDirectory(prefix="spaps-api-") as tmp:
        old_root = releases.extract(point.tree, Path(tmp) / "old")
        old = _load(module, old_root / "src")
        new = _load(module, pkg.path / "src")
        found = []
        for breakage in griffe.find_breaking_changes(old, new):
            path = breakage.obj.path
            if any(part.startswith("_") and not part.startswith("__") for part in path.split(".")):
                continue  # private modules and names may change freely
            found.append(f"{path}: {breakage.kind.value} ({breakage.explain().strip()})")
    return found


def check(pkg: Package) -> list[str]:
    """Breaking changes between the previous release and a version bumped too little.

    Work not yet released may break the API: ``release.py bump`` refuses a bump too small
    for it, so only a version already bumped is held to its bump here.
    """
    point = previous(pkg)
    if point is None or bump_allows_breaking(point.version, pkg.version):
        return []
    needed = "minor" if Version(point.version).major == 0 else "major"
    return [
        f"{pkg.name} {point.version} -> {pkg.version} breaks the public API without a "
        f"{needed} bump: {line}"
        for line in breaking_changes(pkg, point)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dists", nargs="*")
    args = parser.parse_args(argv)
    packages = load()
    names = args.dists or sorted(n for n, p in packages.items() if p.kind == "library")
    problems = []
    for name in names:
        pkg = packages.get(name)
        if pkg is None or pkg.kind != "library":
            print(f"error: unknown library {name!r}", file=sys.stderr)
            return 2
        problems += check(pkg)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    if not problems:
        print(f"public API consistent with the release points of {len(names)} libraries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
