"""tools/load_proof.py: runs test files again and again beside busy loops, stops at the
first failure and says so in its exit status and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "load_proof.py"
sys.path.insert(0, str(TOOL.parent))

import load_proof  # noqa: E402


def test_the_runs_use_xdist_workers_unless_told_not_to() -> None:
    command = load_proof.pytest_command(["a.py", "b.py"], 4, ["-x"])
    assert command[1:] == ["-m", "pytest", "a.py", "b.py", "-q", "-p", "no:cacheprovider",
                           "-n", "4", "-x"]  # fmt: skip
    assert "-n" not in load_proof.pytest_command(["a.py"], 0, [])


def _prove(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(body)
    return subprocess.run(
        [sys.executable, str(TOOL), "test_sample.py", "--runs", "2", "--burners", "1", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,  # only a hung run reaches it
        check=False,
    )


def test_passing_files_pass_every_run_under_load(tmp_path: Path) -> None:
    result = _prove(tmp_path, "def test_ok():\n    assert True\n", "--workers", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("load proof: 1 files, 2 runs, pytest -n 0, 1 busy-loop processes")
    assert lines[1].startswith("run 1/2: passed: 1 passed in ")
    assert lines[2].startswith("run 2/2: passed: 1 passed in ")
    assert lines[3].startswith("load proof: 2/2 runs passed in a row under load")


def test_the_first_failure_stops_the_proof(tmp_path: Path) -> None:
    result = _prove(tmp_path, "def test_bad():\n    assert 1 == 2\n", "--workers", "0")
    assert result.returncode == 1
    assert "run 1/2: FAILED (exit 1): 1 failed in " in result.stdout
    assert "assert 1 == 2" in result.stdout  # the failing run's output is shown
    assert "load proof: FAILED at run 1/2 after 0 passing runs" in result.stdout
    assert "run 2/2" not in result.stdout


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(TOOL), "test_missing.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "no such test file: test_missing.py" in result.stderr
