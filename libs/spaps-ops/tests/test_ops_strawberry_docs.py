"""The GraphQL examples of the README and of docs/graphql-ops.md run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("strawberry", reason="not applicable: the strawberry extra is not installed")

README = Path(__file__).parents[1] / "README.md"
GUIDE = Path(__file__).resolve().parents[3] / "docs" / "graphql-ops.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def graphql_blocks(text: str) -> list[str]:
    return [code for code in PYTHON_BLOCK.findall(text) if "spaps_ops.strawberry" in code]


def run_example(code: str, folder: Path) -> None:
    script = folder / "example.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", str(script)],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr


def test_readme_graphql_example_runs(tmp_path: Path) -> None:
    [code] = graphql_blocks(README.read_text())
    run_example(code, tmp_path)


def test_guide_examples_run(tmp_path: Path) -> None:
    if not GUIDE.exists():
        pytest.skip("not applicable: docs/graphql-ops.md is not part of this checkout")
    blocks = graphql_blocks(GUIDE.read_text())
    assert len(blocks) == 2
    for number, code in enumerate(blocks):
        folder = tmp_path / str(number)
        folder.mkdir()
        run_example(code, folder)


def test_guide_lists_every_graphql_code() -> None:
    if not GUIDE.exists():
        pytest.skip("not applicable: docs/graphql-ops.md is not part of this checkout")
    from spaps_ops import OPS_ERROR_CODES  # noqa: PLC0415

    guide = GUIDE.read_text()
    for entry in OPS_ERROR_CODES:
        if entry.code.startswith("graphql."):
            assert f"| `{entry.code}` | {entry.status} |" in guide
