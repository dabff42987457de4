"""The services' API contract files are current, and no release breaks its API unannounced.

``tools/api_contract.py`` generates ``api/<service>/openapi.json``, the TypeScript SDKs'
``schema.ts`` and the Postman collections from each service's ``create_app``; a stale file
fails here. ``diff`` compares the current document with the newest release snapshot
(``api/<service>/releases/<version>.json``) with optic and fails on a breaking change
unless the service's version allows it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(Path(__file__).parent))  # npm_tools

import api_contract  # noqa: E402
import npm_tools  # noqa: E402


def _npm_tools() -> None:
    """Skip without npm and optic (fails instead under SPAPS_REQUIRE_SERVICES)."""
    npm_tools.require("npm", "optic")


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOLS / "api_contract.py"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def test_generated_contract_files_are_current() -> None:
    _npm_tools()
    result = _tool("all", "--check")
    assert result.returncode == 0, result.stderr


def test_no_service_breaks_its_api_without_the_bump_that_allows_it() -> None:
    _npm_tools()
    result = _tool("diff")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("since") == len(api_contract.SERVICES)


def test_check_names_a_stale_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for service in api_contract.SERVICES:
        target = tmp_path / service / "openapi.json"
        target.parent.mkdir()
        target.write_text(api_contract.openapi(service))
    stale = tmp_path / "ingredient" / "openapi.json"
    stale.write_text(stale.read_text().replace('"title": "ingredient"', '"title": "old"', 1))
    monkeypatch.setattr(api_contract, "API", tmp_path)
    monkeypatch.setattr(api_contract, "ROOT", tmp_path)
    assert api_contract.write_or_check(["export"], check=True) == ["ingredient/openapi.json"]


def test_a_removed_response_field_is_breaking(tmp_path: Path) -> None:
    _npm_tools()
    document = json.loads(api_contract.targets("export", "ingredient").read_text())
    before = tmp_path / "before.json"
    before.write_text(json.dumps(document))
    del document["components"]["schemas"]["IngredientDetail"]["properties"]["name"]
    after = tmp_path / "after.json"
    after.write_text(json.dumps(document))
    assert api_contract.breaking(before, before) is None
    report = api_contract.breaking(before, after)
    assert report is not None
    assert "cannot remove response property 'name'" in report


@pytest.mark.parametrize(
    ("previous", "current", "allowed"),
    [
        ((0, 2, 0), (0, 2, 1), False),
        ((0, 2, 0), (0, 3, 0), True),
        ((1, 4, 2), (1, 9, 0), False),
        ((1, 4, 2), (2, 0, 0), True),
    ],
)
def test_which_bump_allows_a_breaking_change(
    previous: tuple[int, ...], current: tuple[int, ...], allowed: bool
) -> None:
    assert api_contract.allows_breaking(previous, current) is allowed
