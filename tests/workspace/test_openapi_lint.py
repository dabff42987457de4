"""Both services' OpenAPI documents lint clean with Redocly and the committed redocly.yaml.

The config is the recommended ruleset plus rules a client relies on: a unique operationId,
summary, description and declared tag per operation, a security requirement (``[]`` when
public), examples on every JSON body, and every 4xx/5xx answer as problem+json with one
example per code. No error may remain; a rule left at ``warn`` carries a comment in
redocly.yaml saying why.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).parent))  # npm_tools

import api_contract  # noqa: E402
import npm_tools  # noqa: E402

CONFIG = ROOT / "redocly.yaml"


@pytest.fixture(autouse=True)
def _redocly() -> None:
    """Skip without Redocly CLI (fails instead under SPAPS_REQUIRE_SERVICES)."""
    npm_tools.require("node", "redocly")


def _justified_warnings() -> set[str]:
    """Rules set to ``warn`` in redocly.yaml right below a comment (the justification)."""
    lines = CONFIG.read_text().splitlines()
    found = set()
    for number, line in enumerate(lines):
        match = re.fullmatch(r"\s+([\w/-]+): warn\b.*", line)
        if match and number and lines[number - 1].strip().startswith("#"):
            found.add(match.group(1))
    return found


def _problems(document: Path) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = api_contract.lint_report(document)["problems"]
    return problems


@pytest.mark.parametrize("service", api_contract.SERVICES)
def test_document_lints_without_errors_and_only_justified_warnings(service: str) -> None:
    problems = _problems(api_contract.targets("export", service))
    errors = [p for p in problems if p["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]
    unjustified = {p["ruleId"] for p in problems} - _justified_warnings()
    assert unjustified == set(), f"warnings without a justification in redocly.yaml: {unjustified}"


def test_the_rules_catch_what_a_client_needs(tmp_path: Path) -> None:
    """Taking away an operation's id, description, security, examples or problem+json
    answer is an error: the config really enforces them (not only the recommended set)."""
    path = api_contract.targets("export", "ingredient")
    document = json.loads(path.read_text())
    broken = copy.deepcopy(document)
    operation = broken["paths"]["/v1/ingredients/{code}"]["get"]
    del operation["operationId"], operation["description"], operation["security"]
    del operation["tags"]
    del operation["responses"]["200"]["content"]["application/json"]["example"]
    del operation["responses"]["404"]["content"]["application/problem+json"]["examples"]
    unauthorised = broken["paths"]["/v1/minerals"]["get"]["responses"]["401"]["content"]
    unauthorised["application/json"] = unauthorised.pop("application/problem+json")
    target = tmp_path / "openapi.json"
    target.write_text(json.dumps(broken))
    rules = {p["ruleId"] for p in _problems(target) if p["severity"] == "error"}
    assert {
        "operation-operationId",
        "operation-description",
        "security-defined",
        "operation-tag-defined",
        "rule/json-examples",
        "rule/problem-examples",
        "rule/problem-json-errors",
    } <= rules, rules
