"""The services' GraphQL schemas are committed, current, and never break unannounced.

``tools/graphql_contract.py`` prints each service's SDL to ``api/<service>/schema.graphql``;
a stale file fails here. ``diff`` compares it with the newest release snapshot
(``api/<service>/releases/<version>.graphql``) through graphql-core's
``find_breaking_changes`` and fails on a breaking change unless the version allows it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
sys.path.insert(0, str(TOOLS))

import graphql_contract  # noqa: E402

BEFORE = """\
type Query {
  ingredient(id: ID!): Ingredient
  search(query: String!, first: Int = 20): [Ingredient!]!
}

type Ingredient {
  id: ID!
  name: String!
  energyKcal: Float
  proteinG: Float
}
"""


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOLS / "graphql_contract.py"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_committed_sdl_is_current() -> None:
    result = _tool("export", "--check")
    assert result.returncode == 0, result.stderr
    for service in graphql_contract.SERVICES:
        text = graphql_contract.target(service).read_text()
        assert "type Query" in text, service


def test_no_service_breaks_its_graphql_schema_without_the_bump_that_allows_it() -> None:
    result = _tool("diff")
    assert result.returncode == 0, result.stderr
    verdicts = [line for line in result.stdout.splitlines() if "since" in line or "yet" in line]
    assert len(verdicts) == len(graphql_contract.SERVICES), result.stdout


def test_check_names_a_stale_sdl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for service in graphql_contract.SERVICES:
        path = tmp_path / service / "schema.graphql"
        path.parent.mkdir()
        path.write_text(graphql_contract.sdl(service))
    stale = tmp_path / "ingredient" / "schema.graphql"
    stale.write_text(stale.read_text() + "\nscalar Stale\n")
    monkeypatch.setattr(graphql_contract, "API", tmp_path)
    monkeypatch.setattr(graphql_contract, "ROOT", tmp_path)
    assert graphql_contract.write_or_check(check=True) == ["ingredient/schema.graphql"]


def test_a_removed_field_and_a_new_required_argument_are_breaking() -> None:
    assert graphql_contract.changes(BEFORE, BEFORE) == ([], [])
    removed = BEFORE.replace("  energyKcal: Float\n", "")
    breaking, _ = graphql_contract.changes(BEFORE, removed)
    assert breaking == ["FIELD_REMOVED: Field Ingredient.energyKcal was removed."]
    required = BEFORE.replace("first: Int = 20", "first: Int = 20, lang: String!")
    breaking, _ = graphql_contract.changes(BEFORE, required)
    assert len(breaking) == 1
    assert "lang" in breaking[0]
    assert breaking[0].startswith("REQUIRED_ARG_ADDED")


def test_an_added_field_breaks_nothing_and_a_changed_default_is_only_dangerous() -> None:
    added = BEFORE.replace("  energyKcal: Float\n", "  energyKcal: Float\n  fibre: Float\n")
    assert graphql_contract.changes(BEFORE, added) == ([], [])
    default = BEFORE.replace("first: Int = 20", "first: Int = 10")
    breaking, dangerous = graphql_contract.changes(BEFORE, default)
    assert breaking == []
    assert len(dangerous) == 1
    assert dangerous[0].startswith("ARG_DEFAULT_VALUE_CHANGE")


def _release_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, current: str) -> None:
    """ingredient at version ``current``, released at 0.6.0 with ``BEFORE``, now without
    ``energyKcal``."""
    releases = tmp_path / "ingredient" / "releases"
    releases.mkdir(parents=True)
    (releases / "0.6.0.graphql").write_text(BEFORE)
    (releases / "0.5.0.graphql").write_text("type Query { old: Int }\n")
    (tmp_path / "ingredient" / "schema.graphql").write_text(
        BEFORE.replace("  energyKcal: Float\n", "")
    )
    monkeypatch.setattr(graphql_contract, "API", tmp_path)
    monkeypatch.setattr(graphql_contract, "service_version", lambda service: current)


def test_diff_refuses_a_breaking_change_within_the_same_minor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _release_point(tmp_path, monkeypatch, "0.6.1")
    with pytest.raises(graphql_contract.ContractError) as caught:
        graphql_contract.diff("ingredient")
    message = str(caught.value)
    assert "ingredient 0.6.1 breaks its GraphQL schema since 0.6.0.graphql" in message
    assert "Ingredient.energyKcal was removed" in message


def test_diff_allows_a_breaking_change_with_a_new_minor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _release_point(tmp_path, monkeypatch, "0.7.0")
    report = graphql_contract.diff("ingredient")
    assert report.splitlines()[-1] == (
        "ingredient: breaking changes since 0.6.0.graphql, allowed by (0, 7, 0)"
    )


def test_diff_without_a_release_point_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphql_contract, "API", tmp_path)
    assert graphql_contract.diff("htma") == (
        "htma: no GraphQL release point yet: nothing to compare"
    )
