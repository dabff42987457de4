"""Every library keeps the shape the workspace promises (ADR 0001)."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBS = sorted(p for p in (ROOT / "libs").iterdir() if (p / "pyproject.toml").exists())
# The siblings each library may depend on (docs/architecture.md, "Dependency graph").
ALLOWED_SIBLINGS = {
    "spaps-ops": set(),
    "spaps-auth": set(),
    "spaps-ratelimit": set(),
    "spaps-jobs": set(),
    "spaps-tenancy": set(),
    "spaps-webhooks": {"spaps-jobs"},
}


def project(lib: Path) -> dict[str, object]:
    return tomllib.loads((lib / "pyproject.toml").read_text())


def test_the_six_libraries_exist() -> None:
    assert [lib.name for lib in LIBS] == sorted(ALLOWED_SIBLINGS)


@pytest.mark.parametrize("lib", LIBS, ids=lambda p: p.name)
def test_library_layout(lib: Path) -> None:
    data = project(lib)
    meta = data["project"]
    assert isinstance(meta, dict)
    module = lib.name.replace("-", "_")
    assert (lib / "src" / module / "py.typed").is_file()
    assert (lib / "src" / module / "__init__.py").is_file()
    assert any((lib / "tests").glob("test_*.py")), "a library ships its own tests"
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])
    assert meta["requires-python"] == ">=3.11"
    changelog = (lib / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## {re.escape(meta['version'])}\b", changelog, re.MULTILINE), (
        "the current version has a CHANGELOG entry"
    )
    readme = (lib / "README.md").read_text()
    assert "```python" in readme, "the README opens with a runnable example"
    groups = data.get("dependency-groups", {})
    assert isinstance(groups, dict)
    assert "test" in groups, "the stand-alone check installs the library's test group"


@pytest.mark.parametrize("lib", LIBS, ids=lambda p: p.name)
def test_a_version_attribute_is_the_installed_version(lib: Path) -> None:
    """A ``__version__`` the package exports is read from its metadata, never typed twice."""
    module = importlib.import_module(lib.name.replace("-", "_"))
    if hasattr(module, "__version__"):
        assert module.__version__ == project(lib)["project"]["version"]  # type: ignore[index]


@pytest.mark.parametrize("lib", LIBS, ids=lambda p: p.name)
def test_sibling_dependencies_follow_the_graph(lib: Path) -> None:
    data = project(lib)
    meta = data["project"]
    assert isinstance(meta, dict)
    siblings = set()
    for spec in meta["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", spec).group(0)  # type: ignore[union-attr]
        if name in ALLOWED_SIBLINGS:
            siblings.add(name)
            assert re.search(r"[<>=]", spec), f"{spec!r}: a sibling is pinned to a version range"
    assert siblings <= ALLOWED_SIBLINGS[lib.name]
    sources = data.get("tool", {}).get("uv", {}).get("sources", {})  # type: ignore[union-attr]
    for sibling in siblings:
        assert sources.get(sibling) == {"workspace": True}
