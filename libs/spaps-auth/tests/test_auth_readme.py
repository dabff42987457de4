"""The README's first example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_example_runs() -> None:
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match is not None
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(match.group(1), str(README), "exec"), namespace)  # noqa: S102 - running the documented example is the test
    assert "main" in namespace
