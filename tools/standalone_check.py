"""Prove that every library stands alone.

For each library under ``libs/`` this:

1. builds its wheel (``uv build --package``);
2. creates a fresh virtual environment and installs the wheel with all its extras and
   nothing else (sibling libraries it declares come from their freshly built wheels);
3. imports every module of the package: an import the wheel does not declare fails here,
   before any test tool is installed that could hide it;
4. installs the library's ``test`` dependency group and runs the library's tests against
   the installed wheel, never the source tree.

Versions are constrained to ``uv.lock`` so the run is reproducible.

Usage: ``python tools/standalone_check.py [DIST ...]`` (default: every library).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBS = ROOT / "libs"

IMPORT_ALL = r"""
import importlib, pkgutil, sys
name, venv = sys.argv[1], sys.argv[2]
package = importlib.import_module(name)
if not package.__file__.startswith(venv):
    sys.exit(f"{name} was imported from {package.__file__}, not from the wheel in {venv}")
failed = []
modules = [name] + [m.name for m in pkgutil.walk_packages(package.__path__, name + ".")]
for module in modules:
    try:
        importlib.import_module(module)
    except Exception as exc:  # report every failure, not just the first
        failed.append(f"{module}: {type(exc).__name__}: {exc}")
for line in failed:
    print("import failed:", line)
print(f"imported {len(modules) - len(failed)}/{len(modules)} modules of {name}")
sys.exit(1 if failed else 0)
"""


def uv() -> list[str]:
    found = subprocess.run(["which", "uv"], capture_output=True, text=True, check=False)
    return [found.stdout.strip()] if found.returncode == 0 else [sys.executable, "-m", "uv"]


def run(cmd: list[str], **kwargs: object) -> None:
    shown = [str(c) if "\n" not in str(c) else "<script>" for c in cmd]
    print("+", " ".join(shown), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def read_project(dist: str) -> dict[str, object]:
    return tomllib.loads((LIBS / dist / "pyproject.toml").read_text())


def sibling_deps(project: dict[str, object]) -> list[str]:
    deps = project["project"]["dependencies"]  # type: ignore[index]
    names = []
    for spec in deps:
        name = spec.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip()
        if (LIBS / name).is_dir():
            names.append(name)
    return names


def wheel_of(dist: str, wheels: Path) -> Path:
    found = sorted(wheels.glob(dist.replace("-", "_") + "-*.whl"))
    if not found:
        raise SystemExit(f"no wheel built for {dist}")
    return found[-1]


def constraints_file(work: Path) -> Path:
    """The locked versions of every third-party package, as pip constraints."""
    exported = subprocess.run(
        [
            *uv(),
            "export",
            "--frozen",
            "--all-packages",
            "--all-extras",
            "--all-groups",
            "--no-hashes",
            "--no-emit-workspace",
            "--format",
            "requirements-txt",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [ln for ln in exported.splitlines() if ln and not ln.startswith(("-e", "#", " "))]
    path = work / "constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def check(
    dist: str, wheels: Path, work: Path, constraints: Path, workers: str, *, own: Path | None = None
) -> None:
    project = read_project(dist)
    module = dist.replace("-", "_")
    extras = sorted(project["project"].get("optional-dependencies", {}))  # type: ignore[attr-defined]
    test_deps = project.get("dependency-groups", {}).get("test", [])  # type: ignore[attr-defined]
    venv = work / f"venv-{dist}"
    python = venv / "bin" / "python"
    run([*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)])
    extra = f"[{','.join(extras)}]" if extras else ""
    requirements = [f"{dist}{extra} @ {(own or wheel_of(dist, wheels)).as_uri()}"]
    requirements += [f"{s} @ {wheel_of(s, wheels).as_uri()}" for s in sibling_deps(project)]
    pip = [*uv(), "pip", "install", "--quiet", "--python", str(python), "-c", str(constraints)]
    run([*pip, *requirements])
    run([str(python), "-c", IMPORT_ALL, module, str(venv)], cwd=work)
    if test_deps:
        run([*pip, *test_deps])
    tests = LIBS / dist / "tests"
    if not any(tests.rglob("test_*.py")):
        raise SystemExit(f"{dist} has no tests")
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    run(
        [
            str(python),
            "-m",
            "pytest",
            str(tests.relative_to(ROOT)),
            "-q",
            "-n",
            workers,
            "-p",
            "no:cacheprovider",
            # Private: concurrent pytest runs must not clean up each other's tmp_path.
            "--basetemp",
            str(work / f"pytest-{dist}"),
        ],
        cwd=ROOT,
        env=env,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dists", nargs="*", help="libraries to check (default: all)")
    parser.add_argument("-n", "--workers", default="auto", help="pytest-xdist workers per library")
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        help="test the already built wheel of each DIST found here (a release's own files)",
    )
    args = parser.parse_args()
    dists = args.dists or sorted(p.name for p in LIBS.iterdir() if (p / "pyproject.toml").exists())
    with tempfile.TemporaryDirectory(prefix="spaps-standalone-") as tmp:
        work = Path(tmp)
        wheels = work / "wheels"
        for dist in sorted(p.name for p in LIBS.iterdir() if (p / "pyproject.toml").exists()):
            run(
                [*uv(), "build", "--quiet", "--package", dist, "--wheel", "--out-dir", str(wheels)],
                cwd=ROOT,
            )
        constraints = constraints_file(work)
        for dist in dists:
            started = time.monotonic()
            print(f"== {dist}: wheel, fresh venv, imports, tests", flush=True)
            own = wheel_of(dist, args.wheel_dir.resolve()) if args.wheel_dir else None
            if own is not None:
                print(f"== {dist}: testing the given file {own.name}", flush=True)
            check(dist, wheels, work, constraints, args.workers, own=own)
            print(f"== {dist}: stands alone ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
