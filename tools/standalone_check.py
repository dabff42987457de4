"""Prove that every library stands alone.

For each library under ``libs/`` this:

1. builds its wheel (``uv build --package``);
2. creates a fresh virtual environment and installs the wheel with all its extras and
   nothing else (sibling libraries it declares come from their freshly built wheels);
3. runs every ```python block of the library's README in that environment, with only
   what the README's install line (``pip install 'spaps-x[extra]' ...``) names: an
   example that imports something the library does not declare fails the check, with a
   line naming the library and the example;
4. adds the library's remaining extras and imports every module of the package: an import
   the wheel does not declare fails here, before any test tool is installed that could
   hide it;
5. installs the library's ``test`` dependency group and runs the library's tests against
   the installed wheel, never the source tree.

Versions are constrained to ``uv.lock`` so the run is reproducible.

Usage: ``python tools/standalone_check.py [DIST ...]`` (default: every library);
``--readme-only`` stops after step 3.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
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


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
INSTALL_LINE = re.compile(r"^(?:\$ )?pip install (?P<args>.+)$", re.MULTILINE)
EXAMPLE_TIMEOUT = 300  # seconds: only a hung example reaches it


class ReadmeExample:
    """One ```python block of a README: its number (from 1), first line and code."""

    def __init__(self, number: int, line: int, code: str) -> None:
        self.number, self.line, self.code = number, line, code

    def __repr__(self) -> str:
        return f"example {self.number} (README.md line {self.line})"


def readme_examples(readme: str) -> list[ReadmeExample]:
    """Every ```python block of a README, in order."""
    return [
        ReadmeExample(number, readme.count("\n", 0, match.start()) + 1, match.group(1))
        for number, match in enumerate(PYTHON_BLOCK.finditer(readme), start=1)
    ]


def readme_install(readme: str, dist: str) -> tuple[list[str], list[str]]:
    """The extras of ``dist`` and the other requirements the README's install line names.

    The install line is the first ``pip install`` line that names ``dist``; a README
    without one installs the library alone.
    """
    for match in INSTALL_LINE.finditer(readme):
        words = [w for w in shlex.split(match.group("args")) if not w.startswith("-")]
        extras: list[str] | None = None
        others = []
        for word in words:
            name, _, rest = word.partition("[")
            if name == dist:
                extras = [e.strip() for e in rest.rstrip("]").split(",") if e.strip()]
            else:
                others.append(word)
        if extras is not None:
            return extras, others
    return [], []


def run_readme_examples(dist: str, readme: str, python: Path, work: Path) -> list[str]:
    """Run each example of ``readme`` as a script with ``python``; one line per failure.

    Each runs in its own empty folder with ``PYTHONPATH`` unset, so it imports only what
    is installed in ``python``'s environment.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    failures = []
    for example in readme_examples(readme):
        folder = work / f"readme-{dist}-{example.number}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "readme_example.py").write_text(example.code)
        print(f"+ {dist}: README {example!r}", flush=True)
        try:
            result = subprocess.run(
                [str(python), "readme_example.py"],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=EXAMPLE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{dist}: README {example!r} hung for {EXAMPLE_TIMEOUT} s")
            continue
        if result.returncode != 0:
            print(result.stdout + result.stderr, flush=True)
            lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
            failures.append(f"{dist}: README {example!r} failed: {lines[-1]}")
    return failures


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
    dist: str,
    wheels: Path,
    work: Path,
    constraints: Path,
    workers: str,
    *,
    own: Path | None = None,
    readme_only: bool = False,
) -> None:
    project = read_project(dist)
    module = dist.replace("-", "_")
    extras = sorted(project["project"].get("optional-dependencies", {}))  # type: ignore[attr-defined]
    test_deps = project.get("dependency-groups", {}).get("test", [])  # type: ignore[attr-defined]
    venv = work / f"venv-{dist}"
    python = venv / "bin" / "python"
    run([*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)])
    wheel = (own or wheel_of(dist, wheels)).as_uri()
    siblings = [f"{s} @ {wheel_of(s, wheels).as_uri()}" for s in sibling_deps(project)]
    pip = [*uv(), "pip", "install", "--quiet", "--python", str(python), "-c", str(constraints)]
    # First only what the README's install line names, to run its examples as a reader would.
    readme = (LIBS / dist / "README.md").read_text()
    readme_extras, readme_others = readme_install(readme, dist)
    named = f"[{','.join(readme_extras)}]" if readme_extras else ""
    run([*pip, f"{dist}{named} @ {wheel}", *siblings, *readme_others])
    failures = run_readme_examples(dist, readme, python, work)
    if failures:
        raise SystemExit("\n".join(failures))
    if readme_only:
        return
    extra = f"[{','.join(extras)}]" if extras else ""
    run([*pip, f"{dist}{extra} @ {wheel}", *siblings])
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
    parser.add_argument(
        "--readme-only",
        action="store_true",
        help="stop after the README examples (skip the imports and the test suites)",
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
            print(f"== {dist}: wheel, fresh venv, README examples, imports, tests", flush=True)
            own = wheel_of(dist, args.wheel_dir.resolve()) if args.wheel_dir else None
            if own is not None:
                print(f"== {dist}: testing the given file {own.name}", flush=True)
            check(
                dist, wheels, work, constraints, args.workers, own=own, readme_only=args.readme_only
            )
            done = "README examples run" if args.readme_only else "stands alone"
            print(f"== {dist}: {done} ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
