"""The GraphQL guide's examples (``docs/graphql-auth.md``) run as written.

The guide lives in the workspace's ``docs/``; where the tests run without it (a copy of
the library alone), they are skipped with that reason.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "graphql-auth.md"
EXAMPLES = (
    re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(), re.DOTALL | re.MULTILINE)
    if GUIDE.is_file()
    else []
)


def test_guide_has_an_example() -> None:
    if not GUIDE.is_file():
        pytest.skip("not applicable: docs/graphql-auth.md is not part of this checkout")
    assert EXAMPLES
    assert all("spaps_auth.strawberry" in example for example in EXAMPLES)


@pytest.mark.parametrize(
    "source",
    EXAMPLES
    or [
        pytest.param(
            "", marks=pytest.mark.skip(reason="not applicable: docs/graphql-auth.md is absent")
        )
    ],
    ids=[f"example-{i}" for i in range(1, max(len(EXAMPLES), 1) + 1)],
)
def test_guide_example_runs(source: str) -> None:
    # A registered module, as a script is: Strawberry resolves a type's annotations
    # through ``sys.modules[cls.__module__]``.
    module = types.ModuleType("graphql_auth_guide")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, str(GUIDE), "exec"), module.__dict__)  # noqa: S102 - running the documented example is the test
    finally:
        del sys.modules[module.__name__]
    assert "main" in module.__dict__
