"""The services' GraphQL contract: each schema's SDL, committed and compared per release.

Each service's ``<service>.graphql.sdl()`` prints its schema; the SDL is committed so a
change to the GraphQL API shows in review, and a stale file fails a test (``--check``)::

    graphql_contract.py export [--check]   # api/<service>/schema.graphql
    graphql_contract.py snapshot SERVICE   # api/<service>/releases/<version>.graphql
    graphql_contract.py diff [SERVICE]     # breaking changes since the newest snapshot

``diff`` asks graphql-core's ``find_breaking_changes`` (a removed type or field, a changed
field type, a new required argument ...) and fails on one unless the service's version has
a new major (0.x: minor) since the snapshot, the rule ``api_contract.py diff`` applies to
the OpenAPI documents. It also prints graphql-core's "dangerous" changes (an added enum
value, a changed default), which do not fail.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from api_contract import allows_breaking, snapshots
from graphql import build_schema, find_breaking_changes, find_dangerous_changes
from sdk_package import service_version

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "api"
SERVICES = ("htma", "ingredient")

_EXPORT = "from {name}.graphql import sdl\nprint(sdl(), end='')\n"


class ContractError(Exception):
    """A one-line reason the command failed."""


def sdl(service: str) -> str:
    """The service's schema as its code prints it (no HTMA_/INGREDIENT_ variables, run in an
    empty folder so no file of this checkout is touched), ending with one newline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTMA_", "INGREDIENT_"))}
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-c", _EXPORT.format(name=service)],
            cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise ContractError(f"{service}: sdl() failed: {detail[-1] if detail else '?'}")
    return result.stdout.rstrip("\n") + "\n"


def target(service: str) -> Path:
    return API / service / "schema.graphql"


def write_or_check(check: bool) -> list[str]:
    """Write each service's SDL, or (``check``) list the files that differ from a fresh one."""
    stale = []
    for service in SERVICES:
        path, fresh = target(service), sdl(service)
        if check and (not path.exists() or path.read_text() != fresh):
            stale.append(str(path.relative_to(ROOT)))
        elif not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(fresh)
    return stale


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """The breaking and the dangerous changes from SDL ``before`` to SDL ``after``."""
    old, new = build_schema(before), build_schema(after)
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)]
    dangerous = [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)]
    return breaking, dangerous


def diff(service: str) -> str:
    """Compare the newest snapshot with the committed SDL; a report ending in one verdict."""
    found = snapshots(service, ".graphql", API)
    if not found:
        return f"{service}: no GraphQL release point yet: nothing to compare"
    previous, snapshot = found[-1]
    current = tuple(int(p) for p in service_version(service).split("."))
    breaking, dangerous = changes(snapshot.read_text(), target(service).read_text())
    notes = [f"{service}: dangerous: {line}" for line in dangerous]
    if not breaking:
        return "\n".join([*notes, f"{service}: no breaking change since {snapshot.name}"])
    if allows_breaking(previous, current):
        verdict = f"{service}: breaking changes since {snapshot.name}, allowed by {current}"
        return "\n".join([*notes, *(f"{service}: {line}" for line in breaking), verdict])
    raise ContractError(
        f"{service} {'.'.join(map(str, current))} breaks its GraphQL schema since "
        f"{snapshot.name} without a major bump (0.x: minor):\n" + "\n".join(breaking)
    )


def snapshot(service: str) -> Path:
    """Copy the committed SDL as the snapshot of the service's current version."""
    if write_or_check(check=True):
        raise ContractError(f"api/{service}/schema.graphql is stale: run `export` first")
    path = API / service / "releases" / f"{service_version(service)}.graphql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(target(service).read_text())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["export", "snapshot", "diff"])
    parser.add_argument("service", nargs="?", choices=SERVICES)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            stale = write_or_check(args.check)
            if stale:
                raise ContractError(
                    f"stale: {', '.join(stale)}: run `python tools/graphql_contract.py export`"
                )
            return 0
        if args.command == "snapshot" and args.service is None:
            raise ContractError("snapshot needs a SERVICE")
        command = snapshot if args.command == "snapshot" else diff
        for service in [args.service] if args.service else SERVICES:
            print(command(service))
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
