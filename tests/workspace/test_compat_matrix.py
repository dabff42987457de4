"""The compatibility matrix, generated end to end on a scratch workspace with release points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

TOOL = Path(__file__).resolve().parents[2] / "tools" / "compat_matrix.py"

ROOT_PYPROJECT = """[project]
name = "scratch"
version = "0"
requires-python = ">=3.11"
[tool.uv]
package = false
[tool.uv.workspace]
members = ["libs/*", "services/*"]
[tool.uv.sources]
spaps-a = { workspace = true }
"""

MEMBER = """[project]
name = "{name}"
version = "{version}"
requires-python = ">=3.11"
dependencies = [{deps}]
[dependency-groups]
test = ["pytest>=8"]
[build-system]
requires = ["uv_build>=0.8,<0.14"]
build-backend = "uv_build"
"""


def git(root: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", *ident, *args], cwd=root, check=True, capture_output=True)


def write_lib(root: Path, version: str, body: str) -> None:
    lib = root / "libs" / "spaps-a"
    (lib / "src" / "spaps_a").mkdir(parents=True, exist_ok=True)
    (lib / "pyproject.toml").write_text(MEMBER.format(name="spaps-a", version=version, deps=""))
    (lib / "src" / "spaps_a" / "__init__.py").write_text(body)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """spaps-a released as 0.1.0 (a recorded release point), now at 0.2.0; svc allows both."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text(ROOT_PYPROJECT)
    write_lib(root, "0.1.0", "def answer() -> int:\n    return 42\n")
    svc = root / "services" / "svc"
    (svc / "src" / "svc").mkdir(parents=True)
    (svc / "tests").mkdir()
    (svc / "pyproject.toml").write_text(
        MEMBER.format(name="svc", version="1.0.0", deps='"spaps-a>=0.1,<0.3"')
    )
    (svc / "src" / "svc" / "__init__.py").write_text("")
    (svc / "tests" / "test_svc.py").write_text(
        "import spaps_a\n\n\ndef test_answer():\n    assert spaps_a.answer() == 42\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    tree = subprocess.run(
        ["git", "rev-parse", "HEAD:libs/spaps-a"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (root / "releases.json").write_text(
        json.dumps({"spaps-a": [{"version": "0.1.0", "date": "2026-01-01", "tree": tree}]})
    )
    write_lib(root, "0.2.0", "def answer() -> int:\n    return 42\n")
    return root


def tool(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPAPS_WORKSPACE_ROOT": str(root)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, str(TOOL), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def test_plan_takes_lowest_release_and_newest_version(workspace: Path) -> None:
    result = tool(workspace, "plan", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["point"]: r["libraries"] for r in rows} == {
        "lowest": {"spaps-a": "0.1.0"},
        "newest": {"spaps-a": "0.2.0"},
    }


def test_a_range_no_version_satisfies_is_a_clear_error(workspace: Path) -> None:
    pyproject = workspace / "services" / "svc" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(">=0.1,<0.3", ">=0.5"))
    result = tool(workspace, "plan")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: svc: no version of spaps-a satisfies 'spaps-a>=0.5'"


@pytest.mark.slow
def test_run_installs_the_released_version_and_render_reports_it(workspace: Path) -> None:
    record = workspace / "compat.json"
    out = workspace / "compat.md"
    assert tool(workspace, "render", "--record", str(record), "--out", str(out)).returncode == 2
    for point in ("lowest", "newest"):
        result = tool(workspace, "run", "svc", point, "--record", str(record))
        assert result.returncode == 0, result.stdout + result.stderr
    records = json.loads(record.read_text())
    assert [(r["package"], r["point"], r["libraries"], r["result"]) for r in records] == [
        ("svc", "lowest", {"spaps-a": "0.1.0"}, "pass"),
        ("svc", "newest", {"spaps-a": "0.2.0"}, "pass"),
    ]
    # A newest version that breaks the service is recorded as a failure, not hidden.
    write_lib(workspace, "0.2.0", "VERSION = '0.2.0'\n")
    assert tool(workspace, "run", "svc", "newest", "--record", str(record)).returncode == 1
    assert tool(workspace, "render", "--record", str(record), "--out", str(out)).returncode == 0
    table = out.read_text()
    assert "| package | spaps-a | lowest | newest | tested |" in table
    assert "| svc 1.0.0 | 0.1.0 / 0.2.0 | pass | fail |" in table


def test_the_committed_matrix_covers_the_plan_and_is_its_rendering() -> None:
    """docs/compatibility.json has a result for every row of today's plan, and the Markdown
    is exactly what ``render`` makes of it: rerun the matrix after a bump or a range change."""
    root = TOOL.parents[1]
    sys.path.insert(0, str(TOOL.parent))
    import compat_matrix  # noqa: PLC0415 - the tools folder is not a package
    import workspace  # noqa: PLC0415

    records = json.loads((root / "docs" / "compatibility.json").read_text())
    assert compat_matrix.stale(records, workspace.load(root)) == []
    assert (root / "docs" / "compatibility.md").read_text() == compat_matrix.render(records)
    # Wherever a row's range admits two released versions of a library, the row tests two
    # different versions (its lowest release and its newest), and only there.
    import releases  # noqa: PLC0415 - the tools folder is not a package

    released = {
        dist: {Version(p.version) for p in points} for dist, points in releases.load(root).items()
    }
    packages = workspace.load(root)
    points = {(r["package"], r["point"]): r["libraries"] for r in records}
    for (package, point), libraries in points.items():
        if point != "lowest":
            continue
        for dist, version in libraries.items():
            spec = SpecifierSet(str(Requirement(packages[package].requires[dist]).specifier))
            admitted = {v for v in released.get(dist, set()) if v in spec}
            newest = points[(package, "newest")][dist]
            assert (version != newest) == (len(admitted | {Version(newest)}) > 1), (
                f"{package} tests {dist} at {version} and {newest}; its range admits "
                f"{sorted(map(str, admitted))}"
            )
