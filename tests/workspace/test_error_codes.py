"""docs/errors.md is generated from the error registries and current; every problem code
the services document in their OpenAPI has its entry there (``urn:spaps:problem:<code>``
leads to ``docs/errors.md#<code>``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ERRORS = ROOT / "docs" / "errors.md"
PREFIX = "urn:spaps:problem:"


def test_errors_page_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "error_codes.py"), "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _problem_types(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        value = node.get("type")
        if isinstance(value, str) and value.startswith(PREFIX):
            found.add(value)
        for child in node.values():
            found |= _problem_types(child)
    elif isinstance(node, list):
        for child in node:
            found |= _problem_types(child)
    return found


def test_every_documented_problem_type_leads_to_its_entry() -> None:
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', ERRORS.read_text()))
    for service in ("htma", "ingredient"):
        document = json.loads((ROOT / "api" / service / "openapi.json").read_text())
        types = _problem_types(document["paths"])
        assert types, f"{service}: no problem example in the OpenAPI document"
        missing = {t for t in types if t.removeprefix(PREFIX) not in anchors}
        assert missing == set(), f"{service}: problem types without an entry: {missing}"
