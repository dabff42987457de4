"""What the workspace holds: its packages, their versions and the dependencies between them.

Shared by ``affected.py``, ``release.py`` and ``compat_matrix.py``; stdlib only.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

# SPAPS_WORKSPACE_ROOT points the tools at another checkout (their tests use a scratch one).
ROOT = Path(os.environ.get("SPAPS_WORKSPACE_ROOT") or Path(__file__).resolve().parent.parent)

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Package:
    """One workspace member: a library under ``libs/``, a service under ``services/``, or a
    service's generated API client under ``clients/python/`` (its version is the service's,
    set by ``tools/python_clients.py``; it is built from the working tree, never bumped)."""

    name: str
    path: Path
    version: str
    kind: str  # "library", "service" or "client"
    requires: dict[str, str]  # sibling name -> the requirement string as written

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def requirement_name(spec: str) -> str:
    match = _NAME.match(spec)
    if match is None:
        raise ValueError(f"not a requirement: {spec!r}")
    return match.group(1).lower().replace("_", "-")


def load(root: Path = ROOT) -> dict[str, Package]:
    """Every member with a ``pyproject.toml``, keyed by distribution name."""
    found: dict[str, tuple[Path, str, dict[str, object]]] = {}
    folders = (("library", "libs"), ("service", "services"), ("client", "clients/python"))
    for kind, folder in folders:
        for pyproject in sorted((root / folder).glob("*/pyproject.toml")):
            project = tomllib.loads(pyproject.read_text())["project"]
            found[project["name"]] = (pyproject.parent, kind, project)
    packages = {}
    for name, (path, kind, project) in found.items():
        deps = [str(d) for d in project.get("dependencies", [])]  # type: ignore[attr-defined]
        requires = {requirement_name(d): d for d in deps if requirement_name(d) in found}
        packages[name] = Package(name, path, str(project["version"]), kind, requires)
    return packages


def dependents(packages: dict[str, Package], name: str) -> set[str]:
    """Every package that depends on ``name``, directly or through others."""
    result: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for pkg in packages.values():
            if current in pkg.requires and pkg.name not in result:
                result.add(pkg.name)
                frontier.append(pkg.name)
    return result
