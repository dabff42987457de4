"""tools/affected.py: which packages a change selects, and the check that keeps its map of
files read by the tests honest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import affected  # noqa: E402
import workspace  # noqa: E402

PYPROJECT = '[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [{deps}]\n'


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """spaps-a; spaps-b needs a; service svc needs b."""
    for folder, name, deps in (
        ("libs", "spaps-a", ""),
        ("libs", "spaps-b", '"spaps-a>=0.1,<0.2"'),
        ("services", "svc", '"spaps-b>=0.1"'),
    ):
        (tmp_path / folder / name).mkdir(parents=True)
        (tmp_path / folder / name / "pyproject.toml").write_text(
            PYPROJECT.format(name=name, deps=deps)
        )
    return tmp_path


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPAPS_WORKSPACE_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, str(TOOLS / "affected.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def names(root: Path, *files: str) -> list[str]:
    result = run(root, "--json", *files)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_a_library_change_follows_its_dependents(scratch: Path) -> None:
    assert names(scratch, "libs/spaps-a/src/spaps_a/x.py") == ["spaps-a", "spaps-b", "svc"]
    assert names(scratch, "libs/spaps-b/README.md") == ["spaps-b", "svc"]
    assert names(scratch, "services/svc/src/svc/app.py") == ["svc"]


def test_shared_inputs_touch_everything_and_docs_nothing(scratch: Path) -> None:
    everything = ["spaps-a", "spaps-b", "svc"]
    for shared in ("uv.lock", "tools/x.py", ".python-version", "pyproject.toml", "conftest.py"):
        assert names(scratch, shared) == everything, shared
    assert names(scratch, "docs/index.md") == []


def test_files_the_tests_read_select_their_readers() -> None:
    packages = workspace.load()
    assert affected.affected(packages, ["services/conftest.py"]) == ["htma", "ingredient"]
    assert "spaps-ops" in affected.affected(packages, ["docs/spaps-ops.md"])
    assert "spaps-ops" in affected.affected(packages, ["examples/ops_demo.py"])


def test_a_missing_or_zero_base_affects_everything(scratch: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=scratch, check=True)
    zero = "0" * 40
    assert names(scratch, *affected.changed_files(zero)) == ["spaps-a", "spaps-b", "svc"]


def test_verify_reads_names_a_read_the_map_does_not_cover(tmp_path: Path) -> None:
    packages = workspace.load()
    mapped = {"spaps-ops": {"docs/spaps-ops.md", "libs/spaps-ops/README.md"}}
    assert affected.unmapped_reads(packages, mapped) == []
    # A read of another library's folder is covered only where the reader depends on it.
    assert affected.unmapped_reads(packages, {"spaps-webhooks": {"libs/spaps-jobs/x.py"}}) == []
    # htma depends on spaps-tenancy, so a change there selects htma already.
    stray = {"spaps-auth": {"docs/spaps-ops.md"}, "htma": {"libs/spaps-tenancy/tests/x.py"}}
    assert affected.unmapped_reads(packages, stray) == [
        "spaps-auth's tests read docs/spaps-ops.md, which tools/affected.py does not map"
    ]
    (tmp_path / "reads-1.json").write_text(json.dumps({"spaps-auth": ["docs/spaps-ops.md"]}))
    result = subprocess.run(
        [sys.executable, str(TOOLS / "affected.py"), "--verify-reads", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "spaps-auth's tests read docs/spaps-ops.md" in result.stderr
