"""The CI graph and the reusable publish workflow are valid GitHub Actions workflows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


@pytest.mark.parametrize("name", ["ci.yml", "_publish.yml"])
def test_workflow_matches_the_github_schema(name: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOWS / name),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_publish_is_reusable_and_ci_calls_it() -> None:
    publish = (WORKFLOWS / "_publish.yml").read_text()
    assert "workflow_call:" in publish
    assert "tools/release.py verify-tag" in publish
    assert "tools/release.py check" in publish
    ci = (WORKFLOWS / "ci.yml").read_text()
    assert "uses: ./.github/workflows/_publish.yml" in ci
    assert "tools/standalone_check.py" in ci
