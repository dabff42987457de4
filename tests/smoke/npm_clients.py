"""npm for the contract tests: the tools and SDKs ``clients/package-lock.json`` pins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
#: Held while a test builds the SDKs into their ``dist/`` folders and reads them (tests on
#: other xdist workers build the same folders); the workspace's publish test takes it too.
SDK_BUILD = FileLock(CLIENTS / "node_modules" / ".spaps-sdk-build.lock")
DEADLINE = 600  # an npm command on a loaded machine; never a measure of speed


SWITCH = "SPAPS_REQUIRE_SERVICES"


def npm_ready() -> None:
    """Skip without npm or the installed tools; fail instead under SPAPS_REQUIRE_SERVICES."""
    missing = None
    if shutil.which("npm") is None:
        missing = "npm (Node.js 20+) is not installed: the SDK, Postman and contract tests need it"
    elif not (CLIENTS / "node_modules" / ".package-lock.json").exists():
        missing = "clients/node_modules is missing: `make clients` (npm ci) installs it"
    if missing is None:
        return
    if os.environ.get(SWITCH):
        pytest.fail(f"{missing} ({SWITCH} is set: nothing may skip)")
    pytest.skip(missing)


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=CLIENTS, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=DEADLINE, check=False,
    )  # fmt: skip


def items(collection: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The collection's requests by (method, path template), e.g. ``("GET", "/v1/me")``."""
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        for item in node.get("item", []):
            if "request" not in item:
                walk(item)
                continue
            segments = [
                "{" + s[1:] + "}" if s.startswith(":") else s
                for s in item["request"]["url"]["path"]
            ]
            found[item["request"]["method"], "/" + "/".join(segments)] = item

    walk(collection)
    return found


def load(service: str) -> dict[str, Any]:
    text = (CLIENTS / "postman" / f"{service}.postman_collection.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded
