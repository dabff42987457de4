"""What the deployment tests share: reading the Dockerfiles and manifests, the settings
variables, and starting a service the way its image does.

Imported by the test modules (``tests/deploy/conftest.py`` puts this folder on the path).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OPS_TOOLS = ROOT / "tools" / "ops"
SERVICES = ("htma", "ingredient")
#: How long a hung process may take before the test fails (never what a test asserts).
HANG = 120.0


# --- Dockerfiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    argument: str
    comment: str  # the comment lines right above it


def dockerfile(service: str) -> list[Instruction]:
    """The instructions of ``deploy/<service>/Dockerfile``, continuation lines joined."""
    found: list[Instruction] = []
    comment: list[str] = []
    pending = ""
    for raw in (DEPLOY / service / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
            continue
        if not pending and not line:
            comment = []
            continue
        pending += (" " if pending else "") + line.removesuffix("\\").strip()
        if line.endswith("\\"):
            continue
        keyword, _, argument = pending.partition(" ")
        found.append(Instruction(keyword.upper(), argument.strip(), "\n".join(comment)))
        pending, comment = "", []
    return found


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    """The instructions of the last stage (the image that runs)."""
    starts = [i for i, instruction in enumerate(instructions) if instruction.keyword == "FROM"]
    return instructions[starts[-1] :]


def exec_form(argument: str) -> list[str]:
    """A JSON-array (exec form) argument; shell form is refused."""
    value = json.loads(argument)
    assert isinstance(value, list), f"not exec form: {argument}"
    assert all(isinstance(part, str) for part in value), argument
    return value


def start_command(service: str) -> list[str]:
    """ENTRYPOINT + CMD of the image (exec form)."""
    stage = final_stage(dockerfile(service))
    entrypoint = [exec_form(i.argument) for i in stage if i.keyword == "ENTRYPOINT"]
    cmd = [exec_form(i.argument) for i in stage if i.keyword == "CMD"]
    assert cmd, f"deploy/{service}/Dockerfile has no CMD"
    return (entrypoint[-1] if entrypoint else []) + cmd[-1]


def image_env(service: str) -> dict[str, str]:
    """The ``ENV`` of the final stage (``KEY=value`` pairs), ``PATH`` left out."""
    env: dict[str, str] = {}
    for instruction in final_stage(dockerfile(service)):
        if instruction.keyword == "ENV":
            for pair in instruction.argument.split():
                key, _, value = pair.partition("=")
                env[key] = value
    env.pop("PATH", None)
    return env


def option(command: list[str], name: str) -> str:
    """The value after ``name`` in a command line."""
    assert name in command, f"{name} not in {command}"
    return command[command.index(name) + 1]


# --- Kubernetes manifests ------------------------------------------------------------------


def manifests(service: str) -> list[dict[str, Any]]:
    """Every document under ``deploy/k8s/<service>/``."""
    documents = []
    for path in sorted((DEPLOY / "k8s" / service).glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def manifest(service: str, kind: str, name: str) -> dict[str, Any]:
    """The one document of ``kind`` named ``name``."""
    found = [d for d in manifests(service) if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} documents"
    return found[0]


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a workload's pod template."""
    spec = document["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


# --- Settings and the configuration reference -----------------------------------------------


def load_tool(name: str) -> ModuleType:
    """``tools/ops/<name>.py`` as a module."""
    module_name = f"spaps_ops_tool_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, OPS_TOOLS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def variables(service: str) -> dict[str, Any]:
    """Name -> ``config_reference.Variable`` of every setting of ``service``."""
    return {v.name: v for v in load_tool("config_reference").variables(service)}


# Secret settings by name ending -> a well-formed value (first match wins).
_SECRET_VALUES: tuple[tuple[tuple[str, ...], Callable[[], str]], ...] = (
    # <kid>:<standard base64 of 32 bytes>
    (("WEBHOOK_SEALING_KEYS",), lambda: "w1:" + base64.b64encode(secrets.token_bytes(32)).decode()),
    # message and TOTP keys: <id>:<urlsafe base64>
    (("_KEYS",), lambda: "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()),
    (("WEBHOOK_SECRET", "WEBHOOK_SECRETS"),
     lambda: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()),
    (("DEAD_LETTER_URL",), lambda: "postgresql+psycopg://app@db.internal:5432/jobs"),
    (("DATABASE_URL",), lambda: "postgresql://app@db.internal:5432/service"),
    (("REDIS_URL", "BROKER_URL"), lambda: "redis://redis.internal:6379/0"),
)  # fmt: skip


def secret_value(name: str) -> str:
    """A well-formed value for a secret variable (what an operator would put there)."""
    for endings, make in _SECRET_VALUES:
        if name.endswith(endings):
            return make()
    return secrets.token_urlsafe(48)


def build_settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``service``'s Settings from exactly ``env`` (no other prefixed variable, no .env)."""
    prefix = load_tool("config_reference").env_prefix(service)
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_tool("config_reference").settings_class(service)(_env_file=None)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a dotenv file (comments and blank lines skipped)."""
    values = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        assert match, f"{path.name}:{number}: not NAME=value: {raw!r}"
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match.group(1)] = value
    return values


# --- Processes --------------------------------------------------------------------------------


def wait_until(check: Callable[[], Any], what: str, deadline: float = HANG) -> Any:
    """Poll ``check`` until it returns a truthy value; fail the test on a hang."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)  # sleep-ok: polling interval of a bounded wait, not synchronisation


def clean_environment(venv: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A process environment without the services' variables, the venv's scripts first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTMA_", "INGREDIENT_", "UV_"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A running server process and the port it reported."""

    process: subprocess.Popen[str]
    port: int = 0
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(command: list[str], *, env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """Run ``command`` (which must pass ``--port 0``) and read the bound port from uvicorn's
    start-up line; terminate it afterwards."""
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    server = Server(process)
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line)
            match = re.search(r"Uvicorn running on http://[^:\s]+:(\d+)", line)
            if match and not found.is_set():
                server.port = int(match.group(1))
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: found.is_set() or process.poll() is not None, f"{command[0]} to listen")
        if not found.is_set():
            pytest.fail(f"{command} exited {process.returncode}:\n{''.join(server.output)}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=HANG)
        if process.stdout is not None:
            process.stdout.close()
