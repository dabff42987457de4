"""Release one library without touching the others.

Subcommands::

    release.py version DIST                  print the version
    release.py bump DIST {major,minor,patch} [--date YYYY-MM-DD] [--widen-dependents] [--no-lock]
                                             new version in pyproject + CHANGELOG, release point
                                             recorded in releases.json, uv.lock updated
    release.py record DIST                   re-record the current version's release point
    release.py tag DIST                      print the release tag, <dist>-v<version>
    release.py releases [--json]             every recorded release point
    release.py pending [--json]              release points that have no tag yet
    release.py verify-release DIST VERSION [--commit REV]
                                             libs/DIST at REV is that release point's source
    release.py verify-tag TAG [--commit REV] the tag exists, points at REV (default HEAD) and
                                             names a release point whose source REV holds
    release.py consistency                   every member's version within its dependents'
                                             ranges, every version recorded (uv checks neither)
    release.py build DIST [--out DIR] [--version V]
                                             sdist and wheel of one library (of the release
                                             point of V: its recorded source)
    release.py check-dist DIST DIR           the built sdist and wheel hold what they must
    release.py notes DIST VERSION            that version's CHANGELOG section (release notes)
    release.py check DIST                    stand-alone wheel check of one library

``bump`` moves the entries under ``## [Unreleased]`` in the library's CHANGELOG.md to a new
``## <version> - <date>`` section and refuses to release when there are none: every release
says what changed. It refuses a patch bump (or a minor one from 1.0 on) that carries a
breaking API change since the last release point, and a version that a dependent's range
leaves out unless ``--widen-dependents`` rewrites those ranges (and notes it in each
dependent's CHANGELOG). Errors are one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import release_checks
import releases
from release_bump import ReleaseError, bump, library, record
from workspace import ROOT


def build(dist: str, out: str, version: str | None) -> None:
    """Build sdist and wheel of one library (of release ``version``: its recorded source)."""
    releases.build(library(dist).path, dist, version, Path(out), wheel_only=False)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Release one spaps library.")
    sub = p.add_subparsers(dest="command", required=True)
    for command in ("version", "tag", "check", "record"):
        sub.add_parser(command).add_argument("dist")
    p_bump = sub.add_parser("bump")
    p_bump.add_argument("dist")
    p_bump.add_argument("part", choices=["major", "minor", "patch"])
    p_bump.add_argument("--date", default=dt.date.today().isoformat())
    p_bump.add_argument("--widen-dependents", action="store_true")
    p_bump.add_argument("--no-lock", action="store_true", help="do not run uv lock")
    for command in ("releases", "pending"):
        sub.add_parser(command).add_argument("--json", action="store_true")
    p_vr = sub.add_parser("verify-release")
    p_vr.add_argument("dist")
    p_vr.add_argument("version")
    p_vr.add_argument("--commit", default="HEAD")
    p_vt = sub.add_parser("verify-tag")
    p_vt.add_argument("tag")
    p_vt.add_argument("--commit", default="HEAD")
    sub.add_parser("consistency")
    p_build = sub.add_parser("build")
    p_build.add_argument("dist")
    p_build.add_argument("--out", default="dist")
    p_build.add_argument("--version", help="build this release point's source")
    p_cd = sub.add_parser("check-dist")
    p_cd.add_argument("dist")
    p_cd.add_argument("dir", type=Path)
    p_notes = sub.add_parser("notes")
    p_notes.add_argument("dist")
    p_notes.add_argument("version")
    return p


def run(args: argparse.Namespace) -> int:  # noqa: PLR0912 - one branch per command
    if args.command == "version":
        print(library(args.dist).version)
    elif args.command == "tag":
        print(f"{args.dist}-v{library(args.dist).version}")
    elif args.command == "bump":
        print(
            bump(
                args.dist, args.part, args.date, widen=args.widen_dependents, lock=not args.no_lock
            )
        )
    elif args.command == "record":
        print(record(args.dist).tree)
    elif args.command == "releases":
        points = [p for entries in releases.load().values() for p in entries]
        rows = [
            {"dist": p.dist, "version": p.version, "date": p.date, "tree": p.tree} for p in points
        ]
        print(json.dumps(rows) if args.json else "\n".join(f"{p.tag} {p.date}" for p in points))
    elif args.command == "pending":
        rows = release_checks.pending()
        print(
            json.dumps(rows) if args.json else "\n".join(f"{r['tag']} {r['commit']}" for r in rows)
        )
    elif args.command == "verify-release":
        point = release_checks.verify_release(args.dist, args.version, args.commit)
        print(f"{point.dist} {point.version}")
    elif args.command == "verify-tag":
        point = release_checks.verify_tag(args.tag, args.commit)
        print(f"{point.dist} {point.version}")
    elif args.command == "consistency":
        problems = release_checks.consistency()
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 1 if problems else 0
    elif args.command == "build":
        build(args.dist, args.out, args.version)
    elif args.command == "check-dist":
        problems = release_checks.check_dist(args.dist, args.dir)
        for line in problems:
            print(f"error: {args.dist}: {line}", file=sys.stderr)
        return 1 if problems else 0
    elif args.command == "notes":
        print(release_checks.notes(args.dist, args.version), end="")
    elif args.command == "check":
        library(args.dist)
        script = Path(__file__).with_name("standalone_check.py")
        subprocess.run([sys.executable, str(script), args.dist], cwd=ROOT, check=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (ReleaseError, releases.ReleasePointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"error: {' '.join(map(str, exc.cmd))} failed with exit status {exc.returncode}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
