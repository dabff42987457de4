"""The release tooling, driven as a release manager would: through its command line, on a
scratch git workspace (spaps-a; spaps-b needs a; service svc needs b)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

from release_bump import add_unreleased_entry, widened  # noqa: E402

PYPROJECT = """[project]
name = "{name}"
version = "{version}"
requires-python = ">=3.11"
dependencies = [{deps}]
[build-system]
requires = ["uv_build>=0.8,<0.14"]
build-backend = "uv_build"
"""

CHANGELOG = """# Changelog

## [Unreleased]
{unreleased}
## 0.1.0 - 2026-01-01

- First release.
"""


def git(root: Path, *args: str) -> str:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    return subprocess.run(
        ["git", *ident, *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def member(root: Path, folder: str, name: str, *, version: str, deps: str, notes: str) -> Path:
    path = root / folder / name
    module = path / "src" / name.replace("-", "_")
    module.mkdir(parents=True)
    (module / "__init__.py").write_text("def answer() -> int:\n    return 42\n")
    (path / "pyproject.toml").write_text(PYPROJECT.format(name=name, version=version, deps=deps))
    (path / "CHANGELOG.md").write_text(CHANGELOG.format(unreleased=notes))
    return path


def tool(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPAPS_WORKSPACE_ROOT": str(root)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, str(TOOLS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Released: spaps-a 0.1.0 and spaps-b 0.2.3 (release points recorded and committed)."""
    root = tmp_path / "ws"
    member(root, "libs", "spaps-a", version="0.1.0", deps="", notes="\n- Added a thing.\n")
    member(
        root,
        "libs",
        "spaps-b",
        version="0.2.3",
        deps='"spaps-a>=0.1,<0.2", "httpx>=0.28"',
        notes="\n",
    )
    member(root, "services", "svc", version="1.0.0", deps='"spaps-b>=0.2,<0.3"', notes="\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    points = {
        name: [{"version": v, "date": "2026-01-01", "tree": git(root, "rev-parse", f"HEAD:{rel}")}]
        for name, v, rel in (
            ("spaps-a", "0.1.0", "libs/spaps-a"),
            ("spaps-b", "0.2.3", "libs/spaps-b"),
        )
    }
    (root / "releases.json").write_text(json.dumps(points, indent=2) + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "record releases")
    return root


def test_bump_moves_notes_and_records_the_release_point(workspace: Path) -> None:
    result = tool(
        workspace, "release.py", "bump", "spaps-a", "patch", "--date", "2026-11-23", "--no-lock"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.1.1"
    assert 'version = "0.1.1"' in (workspace / "libs/spaps-a/pyproject.toml").read_text()
    changelog = (workspace / "libs/spaps-a/CHANGELOG.md").read_text()
    assert changelog.index("## [Unreleased]") < changelog.index("## 0.1.1 - 2026-11-23")
    assert (
        changelog.index("## 0.1.1")
        < changelog.index("- Added a thing.")
        < changelog.index("## 0.1.0")
    )
    # The other library is untouched: releases are one library at a time.
    assert 'version = "0.2.3"' in (workspace / "libs/spaps-b/pyproject.toml").read_text()
    # The recorded tree is what the release commit holds, so verify-release accepts it.
    recorded = json.loads((workspace / "releases.json").read_text())["spaps-a"][-1]
    assert recorded["version"] == "0.1.1"
    git(workspace, "commit", "-qam", "release spaps-a 0.1.1")
    assert recorded["tree"] == git(workspace, "rev-parse", "HEAD:libs/spaps-a")
    verified = tool(workspace, "release.py", "verify-release", "spaps-a", "0.1.1")
    assert verified.returncode == 0, verified.stderr
    assert tool(workspace, "release.py", "consistency").returncode == 0


def test_bump_refuses_a_version_a_dependent_excludes(workspace: Path) -> None:
    before = {p: p.read_text() for p in workspace.rglob("*.toml")}
    result = tool(workspace, "release.py", "bump", "spaps-a", "minor", "--no-lock")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: spaps-a 0.2.0 falls outside the range of spaps-b")
    assert "--widen-dependents" in result.stderr
    assert {p: p.read_text() for p in workspace.rglob("*.toml")} == before


def test_widen_dependents_rewrites_ranges_and_notes_them(workspace: Path) -> None:
    result = tool(
        workspace, "release.py", "bump", "spaps-a", "minor", "--widen-dependents", "--no-lock"
    )
    assert result.returncode == 0, result.stderr
    b = (workspace / "libs/spaps-b/pyproject.toml").read_text()
    assert '"spaps-a>=0.1,<0.3"' in b
    assert '"httpx>=0.28"' in b
    notes = (workspace / "libs/spaps-b/CHANGELOG.md").read_text()
    unreleased = notes.split("## [Unreleased]", 1)[1].split("\n## ", 1)[0]
    assert "Allows spaps-a 0.2.0 (`spaps-a>=0.1,<0.3`)" in unreleased
    # The service depends on spaps-b only: its range is left alone.
    assert '"spaps-b>=0.2,<0.3"' in (workspace / "services/svc/pyproject.toml").read_text()
    assert tool(workspace, "release.py", "consistency").returncode == 0


def test_consistency_names_a_member_outside_a_dependents_range(workspace: Path) -> None:
    path = workspace / "libs/spaps-a/pyproject.toml"
    path.write_text(path.read_text().replace('"0.1.0"', '"0.2.0"'))
    result = tool(workspace, "release.py", "consistency")
    assert result.returncode == 1
    assert "spaps-b requires 'spaps-a>=0.1,<0.2' but spaps-a is at 0.2.0" in result.stderr
    assert "spaps-a 0.2.0 has no release point" in result.stderr


def test_bump_refuses_an_empty_unreleased_section(workspace: Path) -> None:
    before = (workspace / "libs/spaps-b/pyproject.toml").read_text()
    result = tool(workspace, "release.py", "bump", "spaps-b", "patch", "--no-lock")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: nothing to release: the [Unreleased] section of CHANGELOG.md is empty"
    )
    assert (workspace / "libs/spaps-b/pyproject.toml").read_text() == before


def test_a_patch_bump_cannot_carry_a_breaking_change(workspace: Path) -> None:
    init = workspace / "libs/spaps-a/src/spaps_a/__init__.py"
    init.write_text("def renamed() -> int:\n    return 42\n")
    result = tool(workspace, "release.py", "bump", "spaps-a", "patch", "--no-lock")
    assert result.returncode == 2
    assert "spaps_a.answer" in result.stderr
    assert "bump minor" in result.stderr
    # The API check of the tree agrees once a version is bumped too little by hand.
    path = workspace / "libs/spaps-a/pyproject.toml"
    path.write_text(path.read_text().replace('"0.1.0"', '"0.1.1"'))
    check = tool(workspace, "api_check.py", "spaps-a")
    assert check.returncode == 1
    assert "spaps-a 0.1.0 -> 0.1.1 breaks the public API without a minor bump" in check.stderr
    path.write_text(path.read_text().replace('"0.1.1"', '"0.2.0"'))
    assert tool(workspace, "api_check.py", "spaps-a").returncode == 0


def test_verify_tag_needs_the_tag_at_the_released_commit(workspace: Path) -> None:
    missing = tool(workspace, "release.py", "verify-tag", "spaps-b-v0.2.3")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: tag 'spaps-b-v0.2.3' does not exist"
    git(workspace, "tag", "spaps-b-v0.2.3")
    ok = tool(workspace, "release.py", "verify-tag", "spaps-b-v0.2.3")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "spaps-b 0.2.3"
    # A later commit is not the tagged one.
    (workspace / "README.md").write_text("x\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "later")
    moved = tool(workspace, "release.py", "verify-tag", "spaps-b-v0.2.3")
    assert moved.returncode == 2
    assert "points at" in moved.stderr
    # A tag whose commit does not hold the recorded source is refused.
    (workspace / "libs/spaps-b/README.md").write_text("changed after the release\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "change b")
    git(workspace, "tag", "-f", "spaps-b-v0.2.3")
    changed = tool(workspace, "release.py", "verify-tag", "spaps-b-v0.2.3")
    assert changed.returncode == 2
    assert "is not the recorded source of spaps-b 0.2.3" in changed.stderr


def test_pending_lists_untagged_release_points_with_their_commit(workspace: Path) -> None:
    first = git(workspace, "rev-list", "--max-parents=0", "HEAD")
    git(workspace, "tag", "spaps-a-v0.1.0")
    rows = json.loads(tool(workspace, "release.py", "pending", "--json").stdout)
    assert rows == [
        {"dist": "spaps-b", "version": "0.2.3", "tag": "spaps-b-v0.2.3", "commit": first}
    ]


def test_notes_are_the_versions_changelog_section(workspace: Path) -> None:
    result = tool(workspace, "release.py", "notes", "spaps-a", "0.1.0")
    assert result.stdout == "- First release.\n"
    assert tool(workspace, "release.py", "notes", "spaps-a", "9.9.9").returncode == 2


def test_unknown_library_is_a_one_line_error(workspace: Path) -> None:
    result = tool(workspace, "release.py", "version", "spaps-nope")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown library 'spaps-nope'" in result.stderr
    # A service is not released by this tool.
    assert tool(workspace, "release.py", "tag", "svc").returncode == 2


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        ("spaps-jobs>=0.1,<0.2", "0.2.0", "spaps-jobs>=0.1,<0.3"),
        ("spaps-ops[db]>=0.1,<0.2", "0.2.0", "spaps-ops[db]>=0.1,<0.3"),
        (
            "spaps-ops>=0.1,<0.2; python_version >= '3.11'",
            "0.2.0",
            'spaps-ops>=0.1,<0.3; python_version >= "3.11"',
        ),
        ("spaps-x>=1.2,<2", "2.0.0", "spaps-x>=1.2,<3"),
        ("spaps-x==0.1.0", "0.2.0", "spaps-x>=0.2.0,<0.3"),
    ],
)
def test_widened_ranges(spec: str, version: str, expected: str) -> None:
    assert widened(spec, version) == expected


def test_an_unreleased_entry_is_added_where_the_section_is_missing() -> None:
    text = "# Changelog\n\n## 0.1.0\n\n- First.\n"
    assert add_unreleased_entry(text, "x.") == (
        "# Changelog\n\n## [Unreleased]\n\n- Changed: x.\n\n## 0.1.0\n\n- First.\n"
    )


def test_an_unreleased_entry_goes_under_its_heading_where_the_section_has_headings() -> None:
    text = "# C\n\n## [Unreleased]\n\n### Changed\n- a\n\n### Fixed\n- f\n\n## 0.1.0\n"
    assert add_unreleased_entry(text, "Allows y.") == (
        "# C\n\n## [Unreleased]\n\n### Changed\n- a\n- Allows y.\n\n### Fixed\n- f\n\n## 0.1.0\n"
    )
    only_fixed = "# C\n\n## [Unreleased]\n\n### Fixed\n- f\n"
    assert add_unreleased_entry(only_fixed, "Allows y.") == (
        "# C\n\n## [Unreleased]\n\n### Fixed\n- f\n\n### Changed\n- Allows y.\n"
    )


def test_a_service_bump_sets_version_and_changelog_but_records_no_release_point(
    workspace: Path,
) -> None:
    changelog = workspace / "services/svc/CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace("## [Unreleased]\n", "## [Unreleased]\n\n- New route.\n")
    )
    result = tool(
        workspace, "release.py", "bump", "svc", "minor", "--date", "2026-12-01", "--no-lock"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.1.0"
    assert 'version = "1.1.0"' in (workspace / "services/svc/pyproject.toml").read_text()
    assert "## 1.1.0 - 2026-12-01\n\n- New route." in changelog.read_text()
    assert "svc" not in json.loads((workspace / "releases.json").read_text())
    assert tool(workspace, "release.py", "consistency").returncode == 0
