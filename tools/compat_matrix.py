"""The compatibility matrix: which library versions each service release was tested with.

For every service, each spaps library it depends on is tested at two points of its allowed
range: the **lowest** released version the range allows and the **newest** (the workspace
version, which is what the next release of the library will be). Released versions are read
from the git tags ``<dist>-v<version>``.

Subcommands::

    python tools/compat_matrix.py plan [--json]          the combinations to test
    python tools/compat_matrix.py run SERVICE {lowest,newest} [--record FILE]
                                                         build those library versions, install
                                                         them with the service in a fresh venv,
                                                         run the service's tests, record the result
    python tools/compat_matrix.py render [--record FILE] [--out FILE]
                                                         docs/compatibility.md from the records

The matrix is generated, never hand-written: ``render`` only formats what ``run`` recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version
from workspace import ROOT, Package, load

RECORD = ROOT / "docs" / "compatibility.json"
OUT = ROOT / "docs" / "compatibility.md"


class MatrixError(Exception):
    """The matrix cannot be planned, run or rendered; the message says why."""


def released_versions(dist: str) -> list[Version]:
    tags = subprocess.run(
        ["git", "tag", "--list", f"{dist}-v*"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    versions = []
    for tag in tags:
        try:
            versions.append(Version(tag.removeprefix(f"{dist}-v")))
        except ValueError:
            continue
    return sorted(versions)


def plan(packages: dict[str, Package]) -> list[dict[str, object]]:
    """One row per (service, point): the library versions to install."""
    rows: list[dict[str, object]] = []
    services = sorted((p for p in packages.values() if p.kind == "service"), key=lambda p: p.name)
    for service in services:
        points: dict[str, dict[str, str]] = {"lowest": {}, "newest": {}}
        for dist, spec in sorted(service.requires.items()):
            specifier = Requirement(spec).specifier
            workspace_version = Version(packages[dist].version)
            candidates = sorted({*released_versions(dist), workspace_version})
            allowed = [v for v in candidates if specifier.contains(v, prereleases=True)]
            if not allowed:
                raise MatrixError(f"{service.name}: no version of {dist} satisfies {spec!r}")
            points["lowest"][dist] = str(allowed[0])
            points["newest"][dist] = str(allowed[-1])
        for point, versions in points.items():
            rows.append(
                {
                    "service": service.name,
                    "service_version": service.version,
                    "point": point,
                    "libraries": versions,
                }
            )
    return rows


def build_wheel(dist: str, version: str, packages: dict[str, Package], out: Path) -> None:
    """Build ``dist`` at ``version``: from the working tree or from its release tag."""
    if version == packages[dist].version:
        source = ROOT
    else:
        source = out / f"src-{dist}-{version}"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(source), f"{dist}-v{version}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    try:
        subprocess.run(
            ["uv", "build", "--quiet", "--package", dist, "--wheel", "--out-dir", str(out)],
            cwd=source,
            check=True,
        )
    finally:
        if source != ROOT:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(source)],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )


def test_requirements(service: Package) -> list[str]:
    """The service's ``test`` dependency group, like the libraries' stand-alone check."""
    data = tomllib.loads((service.path / "pyproject.toml").read_text())
    group = data.get("dependency-groups", {}).get("test")
    return list(group) if group else ["pytest", "pytest-asyncio", "pytest-xdist", "httpx"]


def run(service_name: str, point: str, record: Path) -> bool:
    packages = load()
    rows = [r for r in plan(packages) if r["service"] == service_name and r["point"] == point]
    if not rows:
        raise MatrixError(f"unknown service {service_name!r} or point {point!r}")
    row = rows[0]
    libraries: dict[str, str] = row["libraries"]  # type: ignore[assignment]
    service = packages[service_name]
    with tempfile.TemporaryDirectory(prefix="spaps-compat-") as tmp:
        work = Path(tmp)
        for dist, version in libraries.items():
            build_wheel(dist, version, packages, work)
        venv = work / "venv"
        python = venv / "bin" / "python"
        subprocess.run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        pins = [f"{d}=={v}" for d, v in libraries.items()]
        subprocess.run(
            [
                "uv",
                "pip",
                "install",
                "--quiet",
                "--no-sources",
                "--python",
                str(python),
                "--find-links",
                str(work),
                str(service.path),
                *pins,
                *test_requirements(service),
            ],
            cwd=ROOT,
            check=True,
        )
        has_xdist = (
            subprocess.run(
                [str(python), "-c", "import xdist"], capture_output=True, check=False
            ).returncode
            == 0
        )
        result = subprocess.run(
            [str(python), "-m", "pytest", service.rel, "-q", "-p", "no:cacheprovider"]
            + (["-n", "2"] if has_xdist else []),
            cwd=ROOT,
            check=False,
        )
    passed = result.returncode == 0
    records = json.loads(record.read_text()) if record.exists() else []
    records = [
        r
        for r in records
        if (r["service"], r["service_version"], r["point"])
        != (service.name, service.version, point)
    ]
    records.append(
        {**row, "result": "pass" if passed else "fail", "date": dt.date.today().isoformat()}
    )
    record.write_text(
        json.dumps(sorted(records, key=lambda r: (r["service"], r["point"])), indent=2) + "\n"
    )
    return passed


def render(records: list[dict[str, object]]) -> str:
    lines = [
        "# Compatibility matrix",
        "",
        "Generated by `python tools/compat_matrix.py render` from the results that",
        "`tools/compat_matrix.py run` recorded in `compatibility.json`; do not edit by hand.",
        "Each service release is tested with the lowest and the newest version of every",
        "library its pins allow.",
        "",
        "| service | point | libraries | result | tested |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in records:
        libraries: dict[str, str] = r["libraries"]  # type: ignore[assignment]
        libs = ", ".join(f"{d} {v}" for d, v in sorted(libraries.items()))
        lines.append(
            f"| {r['service']} {r['service_version']} | {r['point']} | {libs} "
            f"| {r['result']} | {r['date']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plan, run and render the compatibility matrix.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_plan = sub.add_parser("plan")
    p_plan.add_argument("--json", action="store_true")
    p_run = sub.add_parser("run")
    p_run.add_argument("service")
    p_run.add_argument("point", choices=["lowest", "newest"])
    p_run.add_argument("--record", type=Path, default=RECORD)
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
                print(f"{row['service']} {row['service_version']} {row['point']}: {libs}")
        elif args.command == "run":
            return 0 if run(args.service, args.point, args.record) else 1
        else:
            if not args.record.exists():
                raise MatrixError(f"no results recorded yet in {args.record.name}: run 'run' first")
            args.out.write_text(render(json.loads(args.record.read_text())))
            print(f"wrote {args.out.name}")
    except MatrixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
