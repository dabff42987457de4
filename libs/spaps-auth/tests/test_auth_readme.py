"""The README's examples run as written (each ``python`` block is a self-contained script)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("source", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(source: str) -> None:
    # A registered module, as a script is: Strawberry resolves a type's annotations
    # through ``sys.modules[cls.__module__]``.
    module = types.ModuleType("readme_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, str(README), "exec"), module.__dict__)  # noqa: S102 - running the documented example is the test
    finally:
        del sys.modules[module.__name__]
    assert "main" in module.__dict__
