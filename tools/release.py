"""Release one library without touching the others.

Subcommands::

    python tools/release.py version DIST            print the version
    python tools/release.py bump DIST {major,minor,patch} [--date YYYY-MM-DD]
                                                    bump pyproject + CHANGELOG
    python tools/release.py tag DIST                print the release tag, <dist>-v<version>
    python tools/release.py verify-tag TAG          check a tag names a library at its version
    python tools/release.py build DIST [--out DIR]  build sdist and wheel of one library
    python tools/release.py check DIST              stand-alone wheel check of one library

``bump`` moves the entries under ``## [Unreleased]`` in the library's CHANGELOG.md to a new
``## <version> - <date>`` section and refuses to release when there are none: every release
says what changed. Errors are one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

from workspace import ROOT, Package, load

_VERSION_LINE = re.compile(r'^version\s*=\s*"([^"]+)"\s*$', re.MULTILINE)
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_UNRELEASED = "## [Unreleased]"


class ReleaseError(Exception):
    """A release step cannot go ahead; the message says why."""


def library(name: str) -> Package:
    packages = load()
    pkg = packages.get(name)
    if pkg is None or pkg.kind != "library":
        libraries = ", ".join(sorted(p for p, v in packages.items() if v.kind == "library"))
        raise ReleaseError(f"unknown library {name!r} (known: {libraries})")
    return pkg


def next_version(version: str, part: str) -> str:
    match = _SEMVER.match(version)
    if match is None:
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(x) for x in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ReleaseError(f"unknown part {part!r}: use major, minor or patch")


def bump_changelog(text: str, version: str, date: str) -> str:
    if _UNRELEASED not in text:
        raise ReleaseError(f"CHANGELOG.md has no '{_UNRELEASED}' section")
    head, rest = text.split(_UNRELEASED, 1)
    body, sep, tail = rest.partition("\n## ")
    if not body.strip():
        raise ReleaseError("nothing to release: the [Unreleased] section of CHANGELOG.md is empty")
    new = f"{_UNRELEASED}\n\n## {version} - {date}\n{body.rstrip()}\n"
    return head + new + ("\n## " + tail if sep else "")


def bump(name: str, part: str, date: str) -> str:
    pkg = library(name)
    version = next_version(pkg.version, part)
    pyproject = pkg.path / "pyproject.toml"
    text = pyproject.read_text()
    match = _VERSION_LINE.search(text)
    if match is None or match.group(1) != pkg.version:
        raise ReleaseError(f"{pyproject.relative_to(ROOT)} has no plain version line")
    changelog = pkg.path / "CHANGELOG.md"
    new_changelog = bump_changelog(changelog.read_text(), version, date)
    pyproject.write_text(text[: match.start(1)] + version + text[match.end(1) :])
    changelog.write_text(new_changelog)
    return version


def verify_tag(tag: str) -> Package:
    name, sep, version = tag.rpartition("-v")
    if not sep:
        raise ReleaseError(f"tag {tag!r} is not <dist>-v<version>")
    pkg = library(name)
    if pkg.version != version:
        raise ReleaseError(f"tag {tag!r} says {version} but {name} is at {pkg.version}")
    return pkg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Release one spaps library.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("version", "tag", "check"):
        sub.add_parser(command).add_argument("dist")
    p_bump = sub.add_parser("bump")
    p_bump.add_argument("dist")
    p_bump.add_argument("part", choices=["major", "minor", "patch"])
    p_bump.add_argument("--date", default=dt.date.today().isoformat())
    sub.add_parser("verify-tag").add_argument("tag")
    p_build = sub.add_parser("build")
    p_build.add_argument("dist")
    p_build.add_argument("--out", default="dist")
    args = parser.parse_args(argv)
    try:
        if args.command == "version":
            print(library(args.dist).version)
        elif args.command == "tag":
            print(f"{args.dist}-v{library(args.dist).version}")
        elif args.command == "verify-tag":
            pkg = verify_tag(args.tag)
            print(f"{pkg.name} {pkg.version}")
        elif args.command == "bump":
            print(bump(args.dist, args.part, args.date))
        elif args.command == "build":
            library(args.dist)
            subprocess.run(
                ["uv", "build", "--package", args.dist, "--out-dir", args.out], cwd=ROOT, check=True
            )
        elif args.command == "check":
            library(args.dist)
            subprocess.run(
                [sys.executable, str(Path(__file__).with_name("standalone_check.py")), args.dist],
                cwd=ROOT,
                check=True,
            )
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"error: {' '.join(map(str, exc.cmd))} failed with exit status {exc.returncode}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
