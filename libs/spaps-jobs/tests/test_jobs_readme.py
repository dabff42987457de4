"""Every python block of the README runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 2


def run(code: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 -- our own README
    return namespace


def test_readme_first_example_runs() -> None:
    assert run(BLOCKS[0])["sent"] == ["ada@example.com"]


def test_readme_retention_example_runs() -> None:
    # The block asserts the dry run, the purge through run_scheduled and what remains.
    report = run(BLOCKS[1])["report"]
    assert isinstance(report, dict)
    assert report["rows"] == 2
