"""Checks around a release: the tag and the recorded release point, the built files, and
the consistency of versions and ranges across the workspace (which uv does not check).

Driven by ``tools/release.py``; see that module for the command line.
"""

from __future__ import annotations

import email.parser
import re
import tarfile
import zipfile
from pathlib import Path

import releases
from packaging.requirements import Requirement
from release_bump import ReleaseError, library
from workspace import ROOT, Package, load


def verify_release(dist: str, version: str, commit: str = "HEAD") -> releases.ReleasePoint:
    """``libs/<dist>`` at ``commit`` is exactly the recorded source of ``dist`` ``version``.

    The record is this checkout's ``releases.json`` (main's), so a release point recorded
    after its source was committed is verified too.
    """
    pkg = library(dist)
    try:
        point = releases.find(releases.load(), dist, version)
        tree = releases.tree_at(commit, pkg.rel)
    except releases.ReleasePointError as exc:
        raise ReleaseError(str(exc)) from exc
    if tree != point.tree:
        raise ReleaseError(
            f"{pkg.rel} at {commit} is not the recorded source of {dist} {version} "
            f"(tree {tree[:12]}, release point {point.tree[:12]})"
        )
    return point


def verify_tag(tag: str, commit: str = "HEAD") -> releases.ReleasePoint:
    """The tag exists, points at ``commit``, and names a release point whose source it holds."""
    dist, sep, version = tag.rpartition("-v")
    if not sep or not dist:
        raise ReleaseError(f"tag {tag!r} is not <dist>-v<version>")
    library(dist)
    try:
        tagged = releases.git("rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}")
    except releases.ReleasePointError:
        raise ReleaseError(f"tag {tag!r} does not exist") from None
    target = releases.git("rev-parse", "--verify", f"{commit}^{{commit}}")
    if tagged != target:
        raise ReleaseError(f"tag {tag!r} points at {tagged[:12]}, not at {target[:12]}")
    return verify_release(dist, version, target)


def pending() -> list[dict[str, str]]:
    """Release points with no tag yet, each with the first commit that holds its source."""
    packages = load()
    result = []
    for dist, points in sorted(releases.load().items()):
        for point in points:
            if not releases.tag_exists(point.tag):
                commit = releases.commit_of(point, packages[dist].rel)
                result.append(
                    {"dist": dist, "version": point.version, "tag": point.tag, "commit": commit}
                )
    return result


def consistency(packages: dict[str, Package] | None = None) -> list[str]:
    """Every problem with versions, ranges and release points, one line each."""
    packages = packages or load()
    points = releases.load()
    problems = []
    for pkg in sorted(packages.values(), key=lambda p: p.name):
        for dist, spec in sorted(pkg.requires.items()):
            have = packages[dist].version
            if not Requirement(spec).specifier.contains(have, prereleases=True):
                problems.append(f"{pkg.name} requires {spec!r} but {dist} is at {have}")
        if pkg.kind != "library":
            continue
        recorded = points.get(pkg.name, [])
        if pkg.version not in {p.version for p in recorded}:
            problems.append(
                f"{pkg.name} {pkg.version} has no release point in {releases.RELEASES} "
                "(bump versions with tools/release.py bump)"
            )
        for point in recorded:
            try:
                text = releases.file_in_tree(point.tree, "pyproject.toml")
            except releases.ReleasePointError:
                problems.append(f"{point.tag}: tree {point.tree[:12]} is not in this clone")
                continue
            if f'version = "{point.version}"' not in text:
                problems.append(f"{point.tag}: its tree's pyproject.toml is not at that version")
    for dist in points:
        if dist not in packages:
            problems.append(f"{releases.RELEASES} names {dist!r}, which is not a library here")
    return problems


def check_dist(dist: str, directory: Path) -> list[str]:
    """What is wrong with the sdist and wheel of ``dist`` in ``directory`` (empty: fine)."""
    pkg = library(dist)
    stem = f"{dist.replace('-', '_')}-{pkg.version}"
    wheels = sorted(directory.glob(f"{stem}-*.whl"))
    sdists = sorted(directory.glob(f"{stem}.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"expected one wheel and one sdist of {dist} {pkg.version} in {directory}"]
    problems = []
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        metadata = email.parser.Parser().parsestr(wheel.read(f"{stem}.dist-info/METADATA").decode())
    if metadata["Name"] != dist or metadata["Version"] != pkg.version:
        problems.append(f"wheel metadata says {metadata['Name']} {metadata['Version']}")
    if f"{stem}.dist-info/licenses/LICENSE" not in names:
        problems.append("the wheel has no LICENSE")
    module = dist.replace("-", "_")
    if f"{module}/py.typed" not in names:
        problems.append("the wheel has no py.typed")
    if not metadata.get_all("Project-URL"):
        problems.append("the metadata has no Project-URL")
    if metadata.get("License-Expression") != "MIT":
        problems.append("the metadata declares no MIT License-Expression")
    if not (metadata.get_payload() or "").strip():
        problems.append("the metadata has no long description (README)")
    with tarfile.open(sdists[0]) as sdist:
        members = set(sdist.getnames())
    for required in ("LICENSE", "README.md", "pyproject.toml"):
        if f"{stem}/{required}" not in members:
            problems.append(f"the sdist has no {required}")
    return problems


def notes(dist: str, version: str) -> str:
    """The CHANGELOG section of ``version``: the body of its GitHub release."""
    pkg = library(dist)
    text = (pkg.path / "CHANGELOG.md").read_text()
    match = re.search(rf"^## {re.escape(version)}\b.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None or not match.group(1).strip():
        raise ReleaseError(f"{pkg.path.relative_to(ROOT)}/CHANGELOG.md has no {version} section")
    return match.group(1).strip() + "\n"
