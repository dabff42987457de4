"""The release tooling, driven as a release manager would: through its command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"

PYPROJECT = """[project]
name = "{name}"
version = "{version}"
dependencies = [{deps}]
"""

CHANGELOG = """# Changelog

## [Unreleased]
{unreleased}
## 0.1.0 - 2026-01-01

- First release.
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A scratch workspace: spaps-a, spaps-b (needs a), and service svc (needs b)."""

    def member(folder: str, name: str, version: str, deps: str, unreleased: str) -> None:
        path = tmp_path / folder / name
        path.mkdir(parents=True)
        (path / "pyproject.toml").write_text(
            PYPROJECT.format(name=name, version=version, deps=deps)
        )
        (path / "CHANGELOG.md").write_text(CHANGELOG.format(unreleased=unreleased))

    member("libs", "spaps-a", "0.1.0", "", "\n- Added a thing.\n")
    member("libs", "spaps-b", "0.2.3", '"spaps-a>=0.1,<0.2", "httpx>=0.28"', "\n")
    member("services", "svc", "1.0.0", '"spaps-b>=0.2"', "\n")
    return tmp_path


def tool(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPAPS_WORKSPACE_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, str(TOOLS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_bump_moves_unreleased_entries_under_the_new_version(workspace: Path) -> None:
    result = tool(workspace, "release.py", "bump", "spaps-a", "minor", "--date", "2026-11-23")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.2.0"
    assert 'version = "0.2.0"' in (workspace / "libs/spaps-a/pyproject.toml").read_text()
    changelog = (workspace / "libs/spaps-a/CHANGELOG.md").read_text()
    assert changelog.index("## [Unreleased]") < changelog.index("## 0.2.0 - 2026-11-23")
    assert changelog.index("- Added a thing.") > changelog.index("## 0.2.0")
    assert changelog.index("- Added a thing.") < changelog.index("## 0.1.0")
    # The other library is untouched: releases are one library at a time.
    assert 'version = "0.2.3"' in (workspace / "libs/spaps-b/pyproject.toml").read_text()


@pytest.mark.parametrize(("part", "expected"), [("major", "1.0.0"), ("patch", "0.1.1")])
def test_bump_parts(workspace: Path, part: str, expected: str) -> None:
    result = tool(workspace, "release.py", "bump", "spaps-a", part)
    assert result.stdout.strip() == expected


def test_bump_refuses_an_empty_unreleased_section(workspace: Path) -> None:
    before = (workspace / "libs/spaps-b/pyproject.toml").read_text()
    result = tool(workspace, "release.py", "bump", "spaps-b", "patch")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: nothing to release: the [Unreleased] section of CHANGELOG.md is empty"
    )
    assert (workspace / "libs/spaps-b/pyproject.toml").read_text() == before


def test_unknown_library_is_a_one_line_error(workspace: Path) -> None:
    result = tool(workspace, "release.py", "version", "spaps-nope")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown library 'spaps-nope'" in result.stderr
    # A service is not released by this tool.
    assert tool(workspace, "release.py", "tag", "svc").returncode == 2


def test_tag_and_verify_tag(workspace: Path) -> None:
    assert tool(workspace, "release.py", "tag", "spaps-b").stdout.strip() == "spaps-b-v0.2.3"
    assert tool(workspace, "release.py", "verify-tag", "spaps-b-v0.2.3").returncode == 0
    wrong = tool(workspace, "release.py", "verify-tag", "spaps-b-v0.2.4")
    assert wrong.returncode == 2
    assert "says 0.2.4 but spaps-b is at 0.2.3" in wrong.stderr


def test_affected_follows_dependents(workspace: Path) -> None:
    result = tool(workspace, "affected.py", "--json", "libs/spaps-a/src/spaps_a/x.py")
    assert json.loads(result.stdout) == ["spaps-a", "spaps-b", "svc"]
    result = tool(workspace, "affected.py", "--json", "libs/spaps-b/README.md")
    assert json.loads(result.stdout) == ["spaps-b", "svc"]
    result = tool(workspace, "affected.py", "--json", "services/svc/src/svc/app.py")
    assert json.loads(result.stdout) == ["svc"]


def test_affected_shared_inputs_touch_everything_and_docs_nothing(workspace: Path) -> None:
    everything = ["spaps-a", "spaps-b", "svc"]
    assert json.loads(tool(workspace, "affected.py", "--json", "uv.lock").stdout) == everything
    assert json.loads(tool(workspace, "affected.py", "--json", "tools/x.py").stdout) == everything
    assert json.loads(tool(workspace, "affected.py", "--json", "docs/index.md").stdout) == []
