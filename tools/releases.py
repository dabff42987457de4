"""Release points: which version of each library was released from which source.

The history lives in ``releases.json`` at the repository root, on main, so that any full
clone can rebuild every released version without the git tags (which do not travel with
every clone). Each entry names the git **tree** of ``libs/<dist>`` at the release: a
content hash that ``tools/release.py bump`` computes before the release commit exists and
that is stable across rebases and merges. ``git archive <tree>`` rebuilds the exact source.

    {"spaps-jobs": [{"version": "0.1.0", "date": "2026-11-23", "tree": "<40 hex>"}, ...]}

Stdlib only, like the other tools.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workspace import ROOT

RELEASES = "releases.json"


class ReleasePointError(Exception):
    """A release point is missing or does not match the source; the message says why."""


@dataclass(frozen=True)
class ReleasePoint:
    dist: str
    version: str
    date: str
    tree: str

    @property
    def tag(self) -> str:
        return f"{self.dist}-v{self.version}"


def git(*args: str, env: dict[str, str] | None = None, root: Path = ROOT) -> str:
    result = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, env=env
    )
    if result.returncode != 0:
        raise ReleasePointError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def parse(text: str) -> dict[str, list[ReleasePoint]]:
    data = json.loads(text)
    return {
        dist: [ReleasePoint(dist, e["version"], e["date"], e["tree"]) for e in entries]
        for dist, entries in data.items()
    }


def load(root: Path = ROOT) -> dict[str, list[ReleasePoint]]:
    """Every release point on record, per library, oldest first."""
    path = root / RELEASES
    return parse(path.read_text()) if path.exists() else {}


def save(points: dict[str, list[ReleasePoint]], root: Path = ROOT) -> None:
    data = {
        dist: [{"version": p.version, "date": p.date, "tree": p.tree} for p in entries]
        for dist, entries in sorted(points.items())
    }
    (root / RELEASES).write_text(json.dumps(data, indent=2) + "\n")


def find(points: dict[str, list[ReleasePoint]], dist: str, version: str) -> ReleasePoint:
    for point in points.get(dist, []):
        if point.version == version:
            return point
    raise ReleasePointError(f"{dist} {version} has no release point in {RELEASES}")


def working_tree_hash(rel: str, root: Path = ROOT) -> str:
    """The git tree ``rel`` (a folder) would have if committed as it is now.

    Uses a private index, so the caller's staging area is left alone; ignored files are
    left out exactly as a commit would leave them out.
    """
    with tempfile.TemporaryDirectory(prefix="spaps-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("add", "--all", "--", rel, env=env, root=root)
        return git("write-tree", f"--prefix={rel}/", env=env, root=root)


def tree_at(commit: str, rel: str, root: Path = ROOT) -> str:
    return git("rev-parse", f"{commit}:{rel}", root=root)


def extract(tree: str, dest: Path, root: Path = ROOT) -> Path:
    """Write the files of ``tree`` under ``dest`` (created) and return ``dest``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", tree], cwd=root, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise ReleasePointError(
            f"tree {tree} is not in this clone ({archive.stderr.decode().strip()}): "
            "release points need a full clone (fetch-depth 0)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def file_in_tree(tree: str, path: str, root: Path = ROOT) -> str:
    return git("cat-file", "-p", f"{tree}:{path}", root=root)


def commit_of(point: ReleasePoint, rel: str, root: Path = ROOT, head: str = "HEAD") -> str:
    """The first commit on ``head``'s history whose ``rel`` folder is the release's tree."""
    for commit in git("rev-list", "--reverse", head, "--", rel, root=root).split():
        if tree_at(commit, rel, root) == point.tree:
            return commit
    raise ReleasePointError(f"no commit on {head} has the source of {point.tag}")


def tag_exists(tag: str, root: Path = ROOT) -> bool:
    try:
        git("rev-parse", "-q", "--verify", f"refs/tags/{tag}", root=root)
    except ReleasePointError:
        return False
    return True


RELEASE_TESTS = ".release-tests"


def checkout(point: ReleasePoint, root: Path = ROOT) -> Path:
    """The release point's source under ``<root>/.release-tests/<dist>`` (replaced).

    Inside the repository and as deep as ``libs/<dist>``, so the release's own tests find
    the root ``conftest.py`` fixtures and the files beside the library as they did.
    """
    dest = root / RELEASE_TESTS / point.dist
    if dest.exists():
        shutil.rmtree(dest)
    return extract(point.tree, dest, root)


def build(source: Path, dist: str, version: str | None, out: Path, *, wheel_only: bool) -> None:
    """Build ``dist`` from ``source`` (its folder), or from the recorded source of release
    ``version``, with no workspace sources: what a package index would serve."""
    with tempfile.TemporaryDirectory(prefix=f"spaps-src-{dist}-") as tmp:
        if version is not None:
            source = extract(find(load(), dist, version).tree, Path(tmp) / dist)
        subprocess.run(
            ["uv", "build", "--quiet", "--no-sources", *(["--wheel"] if wheel_only else []),
             str(source), "--out-dir", str(out.resolve())],
            check=True,
        )  # fmt: skip
