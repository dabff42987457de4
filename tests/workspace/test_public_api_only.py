"""Services and the cross-service tooling use the libraries through their public API only.

A library's public surface is what its package (and its public submodules such as
``spaps_ops.db`` or ``spaps_auth.fastapi``) export; ``_private`` modules may change in any
release, so a service importing one would break on an upgrade its pins allow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        *ROOT.glob("services/*/src/**/*.py"),
        *ROOT.glob("tests/smoke/**/*.py"),
        ROOT / "tools" / "demo.py",
    ]
)


def private_imports(path: Path) -> list[str]:
    """Every ``spaps_*`` import in ``path`` that names a ``_private`` module or member."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0].startswith("spaps_") and any(p.startswith("_") for p in parts[1:]):
                found.append(name)
    return found


def test_there_are_sources_to_check() -> None:
    assert len(SOURCES) > 20


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_library_imports(path: Path) -> None:
    assert private_imports(path) == []


def test_the_check_catches_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text(
        "from spaps_auth._tables import UTCDateTime\nimport spaps_ops._app\nimport spaps_ops.db\n"
    )
    assert private_imports(module) == [
        "spaps_auth._tables",
        "spaps_auth._tables.UTCDateTime",
        "spaps_ops._app",
    ]
