"""Building, installing and testing one row of the compatibility matrix in a fresh venv.

Used by ``tools/compat_matrix.py``; see that module for the points and the command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import releases
from workspace import ROOT, Package, load


class MatrixError(Exception):
    """The matrix cannot be planned, run or rendered; the message says why."""


def build_wheel(dist: str, version: str, packages: dict[str, Package], out: Path) -> None:
    """Build ``dist`` at ``version``: the working tree's, or a release point's source."""
    current = version == packages[dist].version
    releases.build(packages[dist].path, dist, None if current else version, out, wheel_only=True)


def wheel_of(directory: Path, dist: str, version: str) -> Path:
    found = sorted(directory.glob(f"{dist.replace('-', '_')}-{version}-*.whl"))
    if not found:
        raise MatrixError(f"no wheel of {dist} {version} in {directory}")
    return found[0].resolve()


def test_requirements(pkg: Package) -> list[str]:
    data = tomllib.loads((pkg.path / "pyproject.toml").read_text())
    group = data.get("dependency-groups", {}).get("test")
    return list(group) if group else ["pytest", "pytest-asyncio", "pytest-xdist", "httpx"]


def extras(pkg: Package) -> str:
    data = tomllib.loads((pkg.path / "pyproject.toml").read_text())
    names = sorted(data["project"].get("optional-dependencies", {}))
    return f"[{','.join(names)}]" if names else ""


def install_and_test(
    pkg: Package, libraries: dict[str, str], point: str, wheel_dir: Path | None
) -> bool:
    packages = load()
    with tempfile.TemporaryDirectory(prefix="spaps-compat-") as tmp:
        work = Path(tmp)
        wheels = work / "wheels"
        for dist, version in libraries.items():
            build_wheel(dist, version, packages, wheels)
        if wheel_dir is not None:
            wheel = wheel_of(wheel_dir, pkg.name, pkg.version)
            target = f"{pkg.name}{extras(pkg)} @ {wheel.as_uri()}"
        else:
            target = f"{pkg.name}{extras(pkg)} @ {pkg.path.resolve().as_uri()}"
        venv = work / "venv"
        python = venv / "bin" / "python"
        subprocess.run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        pip = ["uv", "pip", "install", "--quiet", "--no-sources", "--python", str(python)]
        resolution = ["--resolution", "lowest-direct"] if point == "lowest" else []
        # Siblings by file, never by name: the index must not stand in for a release point.
        pins = [f"{d} @ {wheel_of(wheels, d, v).as_uri()}" for d, v in libraries.items()]
        subprocess.run([*pip, *resolution, target, *pins], cwd=work, check=True)
        # The test tools come after, so they cannot raise the floors under test.
        subprocess.run([*pip, *test_requirements(pkg)], cwd=work, check=True)
        listed = subprocess.run(
            ["uv", "pip", "freeze", "--python", str(python)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"== {pkg.name} {point}: installed\n{listed.stdout}", flush=True)
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        xdist = subprocess.run(
            [str(python), "-c", "import xdist"], capture_output=True, check=False
        )
        result = subprocess.run(
            [
                *(str(python), "-m", "pytest", str(pkg.path / "tests"), "-q"),
                *(("-n", "2") if xdist.returncode == 0 else ()),
                *("-p", "no:cacheprovider", "--basetemp", str(work / "pytest")),
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
    return result.returncode == 0
