"""The GraphQL examples of the README and of the guide run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
GUIDE = Path(__file__).resolve().parents[3] / "docs" / "graphql-ratelimit.md"


def run_block(text: str) -> list[str]:
    match = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert match is not None, "no python example"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", match.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_readme_graphql_example_runs() -> None:
    section = README.read_text().split("## GraphQL (Strawberry)", 1)
    assert len(section) == 2, "README has no GraphQL (Strawberry) section"
    lines = run_block(section[1])
    assert lines[0] == "[200, 200, 200, 200, 429]"
    assert lines[1] == "{'cost': {'total': 22, 'remaining': 78}}"
    assert lines[2] == "ratelimit.rate_limited 6"
    assert lines[3] == "400 ratelimit.cost_exceeded"


def test_guide_example_runs() -> None:
    if not GUIDE.exists():
        pytest.skip("not applicable: docs/graphql-ratelimit.md is not part of this checkout")
    text = GUIDE.read_text()
    lines = run_block(text)
    printed = re.search(r"It prints:\n\n```text\n(.*?)```", text, re.DOTALL)
    assert printed is not None, "the guide shows no output"
    assert lines == printed.group(1).splitlines()  # the page shows what the example prints
    assert lines == [
        "free [200, 200, 429] retry in 18 s",
        "pro [200, 200, 200, 200, 200]",
        "too costly: 400 ratelimit.cost_exceeded cost=121",
        "invalid: 200 Cannot query field 'price' on type 'Book'.",
    ]
