"""The compatibility matrix, and the min-version runs it is made of.

Rows are every service and every library with sibling dependencies; columns are the
libraries they depend on. Each row is tested at two points:

* **lowest** -- each sibling at the lowest *released* version its range allows (built from
  that release point's recorded source, see ``tools/releases.py``) and every third-party
  requirement of the package at its declared floor (``uv pip install --resolution
  lowest-direct``). A floor that fails here must be raised.
* **newest** -- each sibling at the newest version its range allows (the workspace version,
  what the next release will be) and third-party packages at their newest.

Subcommands::

    compat_matrix.py plan [--json]                         the rows and versions to test
    compat_matrix.py run PACKAGE {lowest,newest} [--record FILE] [--wheel-dir DIR]
                              build those versions, install them with PACKAGE (or its built
                              wheel from DIR) in a fresh venv, run PACKAGE's tests, record
    compat_matrix.py render [--record FILE] [--out FILE]   docs/compatibility.md

``run`` also accepts a library without siblings: a min-version run of its third-party
floors, reported but not recorded. The matrix is generated, never hand-written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import releases
from packaging.requirements import Requirement
from packaging.version import Version
from workspace import ROOT, Package, load

RECORD = ROOT / "docs" / "compatibility.json"
OUT = ROOT / "docs" / "compatibility.md"
POINTS = ("lowest", "newest")


class MatrixError(Exception):
    """The matrix cannot be planned, run or rendered; the message says why."""


def in_matrix(pkg: Package) -> bool:
    return pkg.kind == "service" or bool(pkg.requires)


def versions_for(pkg: Package, packages: dict[str, Package]) -> dict[str, dict[str, str]]:
    """For each sibling ``pkg`` requires: its lowest released and newest allowed version."""
    points = releases.load()
    result: dict[str, dict[str, str]] = {"lowest": {}, "newest": {}}
    for dist, spec in sorted(pkg.requires.items()):
        specifier = Requirement(spec).specifier
        workspace_version = Version(packages[dist].version)
        released = {Version(p.version) for p in points.get(dist, [])}
        allowed = sorted(
            v for v in released | {workspace_version} if specifier.contains(v, prereleases=True)
        )
        lowest_released = [v for v in allowed if v in released]
        if not allowed:
            raise MatrixError(f"{pkg.name}: no version of {dist} satisfies {spec!r}")
        result["lowest"][dist] = str(lowest_released[0] if lowest_released else allowed[0])
        result["newest"][dist] = str(allowed[-1])
    return result


def plan(packages: dict[str, Package]) -> list[dict[str, object]]:
    """One row per (package, point): the sibling versions to install."""
    rows: list[dict[str, object]] = []
    for pkg in sorted(packages.values(), key=lambda p: (p.kind, p.name)):
        if not in_matrix(pkg):
            continue
        for point, versions in versions_for(pkg, packages).items():
            rows.append(
                {
                    "package": pkg.name,
                    "version": pkg.version,
                    "kind": pkg.kind,
                    "point": point,
                    "libraries": versions,
                }
            )
    return rows


def build_wheel(dist: str, version: str, packages: dict[str, Package], out: Path) -> None:
    """Build ``dist`` at ``version``: the working tree's, or a release point's source."""
    with tempfile.TemporaryDirectory(prefix=f"spaps-src-{dist}-") as tmp:
        if version == packages[dist].version:
            source = packages[dist].path
        else:
            point = releases.find(releases.load(), dist, version)
            source = releases.extract(point.tree, Path(tmp) / dist)
        subprocess.run(
            [
                "uv",
                "build",
                "--quiet",
                "--no-sources",
                "--wheel",
                str(source),
                "--out-dir",
                str(out),
            ],
            check=True,
        )


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


def run(name: str, point: str, record: Path, wheel_dir: Path | None = None) -> bool:
    packages = load()
    pkg = packages.get(name)
    if pkg is None:
        raise MatrixError(f"unknown package {name!r}")
    libraries = versions_for(pkg, packages)[point]
    passed = install_and_test(pkg, libraries, point, wheel_dir)
    print(f"== {name} {pkg.version} {point}: {'pass' if passed else 'FAIL'}", flush=True)
    if not in_matrix(pkg) or wheel_dir is not None:
        return passed
    records = json.loads(record.read_text()) if record.exists() else []
    key = (pkg.name, pkg.version, point)
    records = [r for r in records if (r["package"], r["version"], r["point"]) != key]
    row = {"package": pkg.name, "version": pkg.version, "kind": pkg.kind, "point": point}
    records.append(
        {
            **row,
            "libraries": libraries,
            "result": "pass" if passed else "fail",
            "date": dt.date.today().isoformat(),
        }
    )
    records.sort(key=lambda r: (r["kind"], r["package"], r["version"], POINTS.index(r["point"])))
    record.write_text(json.dumps(records, indent=2) + "\n")
    return passed


def stale(records: list[dict[str, object]], packages: dict[str, Package]) -> list[str]:
    """Rows of the current plan that the records do not cover, one line each."""
    have = {
        (r["package"], r["version"], r["point"], json.dumps(r["libraries"], sort_keys=True))
        for r in records
    }
    return [
        f"{r['package']} {r['version']} {r['point']} with {r['libraries']} was not run"
        for r in plan(packages)
        if (r["package"], r["version"], r["point"], json.dumps(r["libraries"], sort_keys=True))
        not in have
    ]


def render(records: list[dict[str, object]]) -> str:
    rows: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    for r in records:
        rows.setdefault((str(r["package"]), str(r["version"])), {})[str(r["point"])] = r
    libraries = sorted({d for r in records for d in r["libraries"]})  # type: ignore[attr-defined]
    lines = [
        "# Compatibility matrix",
        "",
        "Generated by `python tools/compat_matrix.py render` from the results that",
        "`tools/compat_matrix.py run` recorded in `compatibility.json`; do not edit by hand.",
        "Each row is a service release or a library with sibling dependencies, tested with",
        "every sibling at the **lowest** released version its range allows (third-party",
        "requirements at their declared floors, `--resolution lowest-direct`) and at the",
        "**newest** (third-party requirements at their newest). A cell reads lowest / newest;",
        "`-` means the row does not depend on that library.",
        "",
        "| package | " + " | ".join(libraries) + " | lowest | newest | tested |",
        "| --- | " + " | ".join("---" for _ in libraries) + " | --- | --- | --- |",
    ]
    for (name, version), points in sorted(rows.items()):
        cells = []
        for dist in libraries:
            got = [points[p]["libraries"].get(dist) for p in POINTS if p in points]  # type: ignore[attr-defined]
            cells.append(" / ".join(str(v) for v in got) if any(got) else "-")
        results = [str(points[p]["result"]) if p in points else "not run" for p in POINTS]
        dates = sorted({str(p["date"]) for p in points.values()})
        lines.append(
            f"| {name} {version} | " + " | ".join(cells) + f" | {' | '.join(results)} "
            f"| {', '.join(dates)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plan, run and render the compatibility matrix.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("plan").add_argument("--json", action="store_true")
    p_run = sub.add_parser("run")
    p_run.add_argument("package")
    p_run.add_argument("point", choices=POINTS)
    p_run.add_argument("--record", type=Path, default=RECORD)
    p_run.add_argument("--wheel-dir", type=Path, help="test this built wheel of PACKAGE")
    p_render = sub.add_parser("render")
    p_render.add_argument("--record", type=Path, default=RECORD)
    p_render.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        if args.command == "plan":
            rows = plan(load())
            if args.json:
                print(json.dumps(rows))
            for row in [] if args.json else rows:
                libs = " ".join(f"{d}=={v}" for d, v in row["libraries"].items())  # type: ignore[attr-defined]
                print(f"{row['package']} {row['version']} {row['point']}: {libs}")
        elif args.command == "run":
            return 0 if run(args.package, args.point, args.record, args.wheel_dir) else 1
        else:
            if not args.record.exists():
                raise MatrixError(f"no results recorded yet in {args.record.name}: run 'run' first")
            args.out.write_text(render(json.loads(args.record.read_text())))
            print(f"wrote {args.out.name}")
    except (MatrixError, releases.ReleasePointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
