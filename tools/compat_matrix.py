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
floors, reported but not recorded; with ``--release VERSION`` it tests a library as that
release point holds it (its source, ranges and own tests), which is what the publish
workflow does with the files it built. The matrix is generated, never hand-written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tomllib
from pathlib import Path

import releases
from compat_install import MatrixError, install_and_test
from packaging.requirements import Requirement
from packaging.version import Version
from workspace import ROOT, Package, load, requirement_name

RECORD = ROOT / "docs" / "compatibility.json"
OUT = ROOT / "docs" / "compatibility.md"
POINTS = ("lowest", "newest")


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


def as_released(pkg: Package, version: str) -> Package:
    """``pkg`` as its release point of ``version`` holds it: source, ranges and tests."""
    point = releases.find(releases.load(), pkg.name, version)
    source = releases.checkout(point)
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    siblings = {n for n in load() if n != pkg.name}
    deps = [str(d) for d in project.get("dependencies", [])]
    requires = {requirement_name(d): d for d in deps if requirement_name(d) in siblings}
    return Package(pkg.name, source, str(project["version"]), pkg.kind, requires)


def run(
    name: str,
    point: str,
    record: Path,
    wheel_dir: Path | None = None,
    release: str | None = None,
) -> bool:
    packages = load()
    pkg = packages.get(name)
    if pkg is None:
        raise MatrixError(f"unknown package {name!r}")
    if release is not None:
        pkg = as_released(pkg, release)
    libraries = versions_for(pkg, packages)[point]
    passed = install_and_test(pkg, libraries, point, wheel_dir)
    print(f"== {name} {pkg.version} {point}: {'pass' if passed else 'FAIL'}", flush=True)
    if not in_matrix(pkg) or wheel_dir is not None or release is not None:
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
    p_run.add_argument(
        "--release", metavar="VERSION", help="a library as released: its recorded source and tests"
    )
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
            return (
                0 if run(args.package, args.point, args.record, args.wheel_dir, args.release) else 1
            )
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
