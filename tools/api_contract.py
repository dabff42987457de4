"""The services' API contract: OpenAPI documents, TypeScript SDKs and Postman collections.

Everything here is generated from each service's ``create_app`` and committed, so a change
to an API shows in review and a stale file fails a test (``--check``)::

    api_contract.py export [--check]   # api/<service>/openapi.json
    api_contract.py sdk [--check]      # clients/typescript/<service>: src/*.ts, the version
    api_contract.py postman [--check]  # clients/postman/<service>.postman_*.json
    api_contract.py all [--check]      # the three, in that order
    api_contract.py snapshot SERVICE   # api/<service>/releases/<version>.json
    api_contract.py diff SERVICE       # breaking changes since the newest snapshot
    api_contract.py lint [SERVICE]     # Redocly lint of the documents (redocly.yaml)

``sdk``, ``postman``, ``diff`` and ``lint`` run the npm tools of ``clients/package-lock.json``
(``make clients``). ``diff``: ``optic diff --check``, failing on a breaking change unless
the version has a new major (0.x: minor) since the snapshot; ``lint``: ``redocly lint``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdk_package import package_json, service_version

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "api"
CLIENTS = ROOT / "clients"
BIN = CLIENTS / "node_modules" / ".bin"
SERVICES = ("htma", "ingredient")

_EXPORT = """
import json
from {name}.app import create_app
from {name}.settings import Settings
print(json.dumps(create_app(Settings()).openapi(), indent=2, ensure_ascii=False))
"""


class ContractError(Exception):
    """A one-line reason the command failed."""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ContractError(f"{Path(command[0]).name} failed: {detail[-1] if detail else '?'}")
    return result.stdout


def openapi(service: str) -> str:
    """The service's OpenAPI document as its default settings build it (no HTMA_/INGREDIENT_
    variables, run in an empty folder so no file of this checkout is touched)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTMA_", "INGREDIENT_"))}
    with tempfile.TemporaryDirectory() as folder:
        return _run([sys.executable, "-c", _EXPORT.format(name=service)], Path(folder), env)


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise ContractError(f"{name} is not installed: run `make clients` (npm ci)")
    return str(path)


def typescript_schema(document: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "openapi.json"
        source.write_text(document)
        target = Path(folder) / "schema.d.ts"
        _run([_tool("openapi-typescript"), str(source), "-o", str(target)], CLIENTS)
        return target.read_text()


def _objects(node: object) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, ``node`` included."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            yield from _objects(value)


def postman_collection(service: str, document: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "openapi.json"
        source.write_text(document)
        target = Path(folder) / "collection.json"
        options = (
            "folderStrategy=Tags,requestParametersResolution=Schema,"
            "exampleParametersResolution=Schema"
        )
        converter = CLIENTS / "node_modules/openapi-to-postmanv2/bin/openapi2postmanv2.js"
        if not converter.exists():
            raise ContractError("openapi-to-postmanv2 is not installed: run `make clients`")
        seeded = CLIENTS / "scripts" / "seeded-random.cjs"
        _run(
            ["node", "--require", str(seeded), str(converter), "-s", str(source), "-o", str(target),
             "-O", options],
            CLIENTS,
        )  # fmt: skip
        collection = json.loads(target.read_text())
    # Stable output: the converter gives every item a fresh random id, and fakes saved
    # example answers with random numbers (the OpenAPI document has the real examples).
    for item in _objects(collection):
        if "request" in item and "response" in item:
            item["response"] = []
        # Postman's {{$guid}}: a new key at each send (the schema's placeholder, the same
        # for every request, would be refused as a key reused with another request).
        if str(item.get("key", "")).lower() == "idempotency-key" and "value" in item:
            item["value"] = "{{$guid}}"
    text = json.dumps(collection, indent=2, ensure_ascii=False, sort_keys=True)
    text = re.sub(r'"(_postman_id|id)": "[0-9a-f-]{36}"', r'"\1": ""', text)
    collection = json.loads(text)
    collection["info"]["name"] = service
    collection["variable"] = [{"key": "baseUrl", "value": "http://127.0.0.1:8000"}]
    # Every route that needs a caller takes a bearer token (ingredient also an API key).
    collection["auth"] = {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{bearerToken}}", "type": "string"}],
    }
    return json.dumps(collection, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def postman_environment(service: str) -> str:
    """The variables the collection reads; fill in ``bearerToken`` (and ``baseUrl``)."""
    environment = {"name": f"{service} (local)", "values": [
        {"key": "baseUrl", "value": "http://127.0.0.1:8000", "type": "default", "enabled": True},
        {"key": "bearerToken", "value": "", "type": "secret", "enabled": True},
    ]}  # fmt: skip
    return json.dumps(environment, indent=2) + "\n"


def targets(step: str, service: str) -> Path:
    return {
        "export": API / service / "openapi.json",
        "sdk": CLIENTS / "typescript" / service / "src" / "schema.ts",
        "sdk-index": CLIENTS / "typescript" / service / "src" / "index.ts",
        "sdk-package": CLIENTS / "typescript" / service / "package.json",
        "postman": CLIENTS / "postman" / f"{service}.postman_collection.json",
        "environment": CLIENTS / "postman" / f"{service}.postman_environment.json",
    }[step]


def generate(step: str, service: str) -> str:
    if step == "export":
        return openapi(service)
    if step == "environment":
        return postman_environment(service)
    if step == "sdk-package":  # the SDK's version is its service's
        return package_json(service, service_version(service))
    if step == "sdk-index":
        template = (CLIENTS / "templates" / "index.ts.template").read_text()
        return template.replace("{{Service}}", service.capitalize()).replace("{{service}}", service)
    document = targets("export", service).read_text()
    if step == "sdk":
        return typescript_schema(document)
    return postman_collection(service, document)


def write_or_check(steps: list[str], check: bool) -> list[str]:
    """Write each generated file, or (``check``) list those that differ from a fresh run."""
    stale = []
    for step in steps:
        for service in SERVICES:
            path = targets(step, service)
            fresh = generate(step, service)
            if check and (not path.exists() or path.read_text() != fresh):
                stale.append(str(path.relative_to(ROOT)))
            elif not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(fresh)
    return stale


def snapshots(
    service: str, suffix: str = ".json", api: Path | None = None
) -> list[tuple[tuple[int, ...], Path]]:
    """The release snapshots ``api/<service>/releases/<version><suffix>``, oldest first."""
    folder = (api or API) / service / "releases"
    stems = (p for p in folder.glob(f"*{suffix}") if re.fullmatch(r"\d+\.\d+\.\d+", p.stem))
    return sorted((tuple(int(part) for part in p.stem.split(".")), p) for p in stems)


def allows_breaking(previous: tuple[int, ...], current: tuple[int, ...]) -> bool:
    """A new major allows a breaking change; before 1.0, a new minor does (SemVer 0.x)."""
    if previous[0] == 0 and current[0] == 0:
        return current[1] > previous[1]
    return current[0] > previous[0]


def breaking(before: Path, after: Path) -> str | None:
    """What ``optic diff --check`` finds breaking from ``before`` to ``after`` (None: nothing)."""
    result = subprocess.run(
        [_tool("optic"), "diff", str(before), str(after), "--check"],
        cwd=CLIENTS, capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "OPTIC_TELEMETRY_LEVEL": "none", "NO_COLOR": "1"},
    )  # fmt: skip
    if result.returncode == 0:
        return None
    if "Checks:" not in result.stdout:  # optic itself failed: never read that as a verdict
        raise ContractError(f"optic failed: {(result.stderr or result.stdout).strip()[-300:]}")
    lines = result.stdout.splitlines()
    return "\n".join(line for line in lines if line.lstrip().startswith(("x ", "x[", "- ")))


def diff(service: str) -> str:
    """Compare the newest snapshot with the current document; one line verdict."""
    found = snapshots(service)
    if not found:
        raise ContractError(f"api/{service}/releases holds no snapshot: nothing to compare")
    previous, snapshot = found[-1]
    current = tuple(int(p) for p in service_version(service).split("."))
    report = breaking(snapshot, targets("export", service))
    if report is None:
        return f"{service}: no breaking change since {snapshot.name}"
    if allows_breaking(previous, current):
        return f"{service}: breaking changes since {snapshot.name}, allowed by {current}"
    raise ContractError(
        f"{service} {'.'.join(map(str, current))} breaks its API since {snapshot.name} "
        f"without a major bump (0.x: minor):\n{report}"
    )


def lint_report(document: Path) -> dict[str, Any]:
    """Redocly's JSON report on ``document`` with ``redocly.yaml`` (totals, problems)."""
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    result = subprocess.run(
        [_tool("redocly"), "lint", str(document), "--config", str(ROOT / "redocly.yaml"),
         "--format=json", "--max-problems=1000"],
        cwd=CLIENTS, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:  # redocly itself failed: never read that as a verdict
        raise ContractError(f"redocly failed: {(result.stderr or result.stdout)[-300:]}") from exc
    return report


def lint(service: str) -> str:
    """Lint the committed document: one line per problem; any error fails."""
    problems: list[dict[str, Any]] = lint_report(targets("export", service))["problems"]
    lines = [f"{service}: {p['severity']} {p['ruleId']}: {p['message']}" for p in problems]
    if any(p["severity"] == "error" for p in problems):
        raise ContractError("\n".join(lines))
    return "\n".join([*lines, f"{service}: lint clean ({len(lines)} warning(s))"])


def snapshot(service: str) -> Path:
    """Copy the current document as the snapshot of the service's current version."""
    if write_or_check(["export"], check=True):
        raise ContractError(f"api/{service}/openapi.json is stale: run `export` first")
    path = API / service / "releases" / f"{service_version(service)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(targets("export", service).read_text())
    return path


STEPS = {"export": ["export"], "sdk": ["sdk", "sdk-index", "sdk-package"]}
STEPS["postman"] = ["postman", "environment"]
STEPS["all"] = [*STEPS["export"], *STEPS["sdk"], *STEPS["postman"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=[*STEPS, "snapshot", "diff", "lint"])
    parser.add_argument("service", nargs="?", choices=SERVICES)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    try:
        if args.command in {"snapshot", "diff", "lint"}:
            command = {"diff": diff, "lint": lint, "snapshot": snapshot}[args.command]
            for service in [args.service] if args.service else SERVICES:
                print(command(service))
            return 0
        stale = write_or_check(STEPS[args.command], args.check)
    except (ContractError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if stale:
        hint = f"run `python tools/api_contract.py {args.command}`"
        print(f"error: stale: {', '.join(stale)}: {hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
