"""The version bump of one library: pyproject, CHANGELOG, dependents' ranges, release point, lock.

Driven by ``tools/release.py bump``; see that module for the command line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import releases
from packaging.requirements import Requirement
from packaging.version import Version
from workspace import ROOT, Package, load

_VERSION_LINE = re.compile(r'^version\s*=\s*"([^"]+)"\s*$', re.MULTILINE)
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
UNRELEASED = "## [Unreleased]"


class ReleaseError(Exception):
    """A release step cannot go ahead; the message says why."""


def library(name: str, packages: dict[str, Package] | None = None) -> Package:
    packages = packages or load()
    pkg = packages.get(name)
    if pkg is None or pkg.kind != "library":
        libraries = ", ".join(sorted(p for p, v in packages.items() if v.kind == "library"))
        raise ReleaseError(f"unknown library {name!r} (known: {libraries})")
    return pkg


def next_version(version: str, part: str) -> str:
    match = _SEMVER.match(version)
    if match is None:
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(x) for x in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ReleaseError(f"unknown part {part!r}: use major, minor or patch")


def compatible_ceiling(version: str) -> str:
    """The first version that may break ``version``'s API: next minor while 0.x, else major."""
    v = Version(version)
    return f"0.{v.minor + 1}" if v.major == 0 else f"{v.major + 1}"


def widened(spec: str, version: str) -> str:
    """``spec`` with its upper bounds replaced so that it admits ``version``'s series."""
    req = Requirement(spec)
    kept = [s for s in req.specifier if s.operator not in {"<", "<=", "==", "~=", "==="}]
    if not any(s.operator in {">=", ">"} for s in kept):
        kept_text = [f">={version}"]
    else:
        kept_text = [str(s) for s in kept]
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    text = f"{req.name}{extras}{','.join([*kept_text, '<' + compatible_ceiling(version)])}"
    return f"{text}; {req.marker}" if req.marker else text


def bump_changelog(text: str, version: str, date: str) -> str:
    if UNRELEASED not in text:
        raise ReleaseError(f"CHANGELOG.md has no '{UNRELEASED}' section")
    head, rest = text.split(UNRELEASED, 1)
    body, sep, tail = rest.partition("\n## ")
    if not body.strip():
        raise ReleaseError("nothing to release: the [Unreleased] section of CHANGELOG.md is empty")
    new = f"{UNRELEASED}\n\n## {version} - {date}\n\n{body.strip()}\n"
    return head + new + ("\n## " + tail if sep else "")


def add_unreleased_entry(text: str, entry: str, heading: str = "Changed") -> str:
    """``entry`` added to the ``[Unreleased]`` section (created when missing): under its
    ``### heading`` where the section uses Keep a Changelog headings, else as a bullet
    that names the heading."""
    if UNRELEASED not in text:
        first = text.find("\n## ")
        cut = len(text) if first < 0 else first + 1
        text = text[:cut] + f"{UNRELEASED}\n\n" + text[cut:]
    head, rest = text.split(UNRELEASED, 1)
    body, sep, tail = rest.partition("\n## ")
    body = body.strip()
    marker = f"### {heading}"
    if marker in body:
        before, _, after = body.partition(marker)
        section, nxt, others = after.partition("\n### ")
        body = f"{before}{marker}{section.rstrip()}\n- {entry}" + (
            f"\n\n### {others}" if nxt else ""
        )
    elif "### " in body:
        body = f"{body}\n\n{marker}\n- {entry}"
    else:
        body = (body + "\n" if body else "") + f"- {heading}: {entry}"
    return f"{head}{UNRELEASED}\n\n{body}\n" + ("\n## " + tail if sep else "")


def set_version(pyproject: Path, old: str, new: str) -> str:
    text = pyproject.read_text()
    match = _VERSION_LINE.search(text)
    if match is None or match.group(1) != old:
        raise ReleaseError(f"{pyproject.relative_to(ROOT)} has no plain version line")
    return text[: match.start(1)] + new + text[match.end(1) :]


def excluding(packages: dict[str, Package], dist: str, version: str) -> list[Package]:
    """The direct dependents whose range on ``dist`` leaves ``version`` out."""
    return sorted(
        (
            p
            for p in packages.values()
            if dist in p.requires
            and not Requirement(p.requires[dist]).specifier.contains(version, prereleases=True)
        ),
        key=lambda p: p.name,
    )


def check_api(pkg: Package, part: str) -> None:
    """Refuse a bump too small for the breaking changes since the last release point."""
    import api_check  # noqa: PLC0415 - griffe is only needed for this step

    breaking = api_check.breaking_changes(pkg, api_check.latest(pkg))
    if breaking and not api_check.bump_allows_breaking(pkg.version, part):
        needed = "minor" if Version(pkg.version).major == 0 else "major"
        raise ReleaseError(
            f"{pkg.name}: a {part} bump cannot carry breaking changes ({breaking[0]}"
            f"{f' and {len(breaking) - 1} more' if len(breaking) > 1 else ''}): "
            f"bump {needed}"
        )


def bump(name: str, part: str, date: str, *, widen: bool, lock: bool) -> str:
    packages = load()
    service = packages.get(name)
    if service is not None and service.kind == "service":
        return bump_service(service, part, date, lock=lock)
    pkg = library(name, packages)
    version = next_version(pkg.version, part)
    check_api(pkg, part)
    blocked = excluding(packages, name, version)
    if blocked and not widen:
        names = ", ".join(f"{p.name} ({p.requires[name]})" for p in blocked)
        raise ReleaseError(
            f"{name} {version} falls outside the range of {names}: "
            "rerun with --widen-dependents to widen them"
        )
    changelog = pkg.path / "CHANGELOG.md"
    new_changelog = bump_changelog(changelog.read_text(), version, date)
    pyproject = pkg.path / "pyproject.toml"
    new_pyproject = set_version(pyproject, pkg.version, version)
    pyproject.write_text(new_pyproject)
    changelog.write_text(new_changelog)
    for dependent in blocked:
        old = dependent.requires[name]
        new = widened(old, version)
        path = dependent.path / "pyproject.toml"
        text = path.read_text()
        if f'"{old}"' not in text:
            raise ReleaseError(f"{path.relative_to(ROOT)}: cannot find {old!r} to widen")
        path.write_text(text.replace(f'"{old}"', f'"{new}"', 1))
        log = dependent.path / "CHANGELOG.md"
        entry = f"Allows {name} {version} (`{new}`)."
        log.write_text(add_unreleased_entry(log.read_text() if log.exists() else "", entry))
    points = releases.load()
    if any(p.version == version for p in points.get(name, [])):
        raise ReleaseError(f"{name} {version} already has a release point")
    tree = releases.working_tree_hash(pkg.rel)
    points.setdefault(name, []).append(releases.ReleasePoint(name, version, date, tree))
    releases.save(points)
    if lock:
        lock_workspace()
    return version


def bump_service(pkg: Package, part: str, date: str, *, lock: bool) -> str:
    """A service release: version and CHANGELOG. Services are deployed, not published, so
    they have no release point and nothing depends on them."""
    version = next_version(pkg.version, part)
    changelog = pkg.path / "CHANGELOG.md"
    new_changelog = bump_changelog(changelog.read_text(), version, date)
    pyproject = pkg.path / "pyproject.toml"
    pyproject.write_text(set_version(pyproject, pkg.version, version))
    changelog.write_text(new_changelog)
    if lock:
        lock_workspace()
    return version


def lock_workspace() -> None:
    result = subprocess.run(["uv", "lock"], cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"uv lock failed: {result.stderr.strip().splitlines()[-1]}")


def record(name: str) -> releases.ReleasePoint:
    """Re-record the tree of the current version's release point (edits after ``bump``)."""
    pkg = library(name)
    points = releases.load()
    entries = points.get(name, [])
    for i, point in enumerate(entries):
        if point.version == pkg.version:
            entries[i] = releases.ReleasePoint(
                name, point.version, point.date, releases.working_tree_hash(pkg.rel)
            )
            releases.save(points)
            return entries[i]
    raise ReleaseError(f"{name} {pkg.version} has no release point: bump it first")
