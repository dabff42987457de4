"""docs/operations.md: its configuration reference is what the settings classes generate,
it names every variable the libraries read by themselves, its runbooks are all there, and
its relative links lead to files of the repository."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import deploykit as kit

DOCUMENT = kit.ROOT / "docs" / "operations.md"
REFERENCE = kit.OPS_TOOLS / "config_reference.py"


def test_the_configuration_reference_is_up_to_date() -> None:
    tool = kit.load_tool("config_reference")
    text = DOCUMENT.read_text()
    assert tool.update(text, tool.render()) == text, (
        "docs/operations.md is stale: run python tools/ops/config_reference.py --write"
    )
    for service in kit.SERVICES:
        for name in kit.variables(service):
            assert f"`{name}`" in text


def test_the_staleness_check_fails_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "operations.md"
    stale.write_text(DOCUMENT.read_text().replace("`HTMA_ACCESS_TTL`", "`HTMA_ACCESS_TIME`"))
    result = subprocess.run(
        [sys.executable, str(REFERENCE), "--check", "--document", str(stale)],
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "is stale" in line
    fixed = subprocess.run(
        [sys.executable, str(REFERENCE), "--write", "--document", str(stale)],
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip
    assert fixed.returncode == 0
    assert stale.read_text() == DOCUMENT.read_text()


def environment_reads(path: Path) -> set[str]:
    """Literal names a module reads with os.environ.get/[], os.getenv."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {
            "os.environ.get",
            "os.getenv",
        }:
            argument = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            argument = node.slice
        else:
            continue
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
    return found


def test_every_variable_the_libraries_read_themselves_is_documented() -> None:
    modules = [p for p in kit.ROOT.glob("libs/*/src/**/*.py") if p.name not in {"testing.py"}]
    read = set().union(*(environment_reads(p) for p in modules))
    assert read == set(kit.load_tool("config_reference").LIBRARY_VARIABLES)


def test_the_runbooks_are_there() -> None:
    headings = re.findall(r"^### (.+)$", DOCUMENT.read_text(), re.MULTILINE)
    for runbook in ("Deploy", "Rollback", "Incident triage", "Rotating keys",
                    "Restoring a backup"):  # fmt: skip
        assert runbook in headings


def test_relative_links_lead_to_repository_files() -> None:
    text = re.sub(r"```.*?```", "", DOCUMENT.read_text(), flags=re.DOTALL)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets
    for target in targets:
        if target.startswith(("http://", "https://", "#")):
            continue
        path = (DOCUMENT.parent / target.split("#")[0]).resolve()
        assert path.exists(), target
        assert path.is_relative_to(kit.ROOT), target
