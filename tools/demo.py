"""Run both services and a worker, seed demo data and walk the main flow.

    uv run --no-sync python tools/demo.py          # or: make demo

Embedded defaults (SQLite files, an embedded SQLite broker) under ``.data/demo/``; set
``HTMA_DATABASE_URL``, ``INGREDIENT_DATABASE_URL``, ``HTMA_BROKER_URL`` (PostgreSQL,
Redis, RabbitMQ) to run on those instead. The flow: sign up a clinic -> add a
practitioner and a patient -> register a webhook endpoint -> submit a mineral panel ->
the worker computes the result (with food recommendations from ingredient) -> the
``result.ready.v1`` webhook arrives, signature verified -> an editor updates an
ingredient. The services then keep running, with their docs URLs printed, until Ctrl-C.

The :class:`Stack` here (and :class:`WebhookSink`, :func:`walk` from ``demo_flow.py``)
are also used by ``tests/smoke``. The Stack binds the services' ports itself, before it
starts anything (each service's settings name the other's URL), and hands each listening
socket over to its server (``demo_serve.py``): no port is ever free between its choice
and its use.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
if str(TOOLS) not in sys.path:  # the tools folder is not a package; the smoke tests load
    sys.path.insert(0, str(TOOLS))  # this file by path, so make its siblings importable

from demo_flow import PANEL, PASSWORD, WebhookSink, wait_result, walk  # noqa: E402

__all__ = ["PANEL", "PASSWORD", "Process", "Stack", "WebhookSink", "main", "wait_result", "walk"]

#: Only fails a step that hangs (a CLI command, a server start); never a slow machine.
DEADLINE = 600.0
SERVERS = ("ingredient", "htma")


def listen(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (port 0: any free port), held until handed over."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


@dataclass
class Process:
    """A started service process and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL after ``timeout``."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=timeout)


@dataclass
class Stack:
    """ingredient, htma and the htma worker as real processes on free ports.

    Both ports are bound (and listening) when the Stack is made; each server inherits its
    socket, and the Stack closes its own copy, so a stopped server refuses connections. A
    server started again gets a new port (the others keep the URL they were given).

    Args:
        workdir: holds the SQLite files, keys, broker and logs.
        env: extra environment (database, broker URLs...), over the embedded defaults.
        htma_port, ingredient_port: fixed ports (0: any free port).
    """

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    htma_port: int = 0
    ingredient_port: int = 0
    processes: dict[str, Process] = field(default_factory=dict)
    webhook_secret: str = ""
    listeners: dict[str, socket.socket] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._listen("htma", self.htma_port)
        self._listen("ingredient", self.ingredient_port)
        self.webhook_secret = self.webhook_secret or "whsec_" + _b64(secrets.token_bytes(32))

    def _listen(self, name: str, port: int) -> None:
        sock = self.listeners[name] = listen(port)
        setattr(self, f"{name}_port", int(sock.getsockname()[1]))

    @property
    def htma_url(self) -> str:
        return f"http://127.0.0.1:{self.htma_port}"

    @property
    def ingredient_url(self) -> str:
        return f"http://127.0.0.1:{self.ingredient_port}"

    def environment(self) -> dict[str, str]:
        data = self.workdir
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HTMA_", "INGREDIENT_"))}
        env.update(
            {
                "HTMA_DATABASE_URL": f"sqlite:///{data / 'htma.db'}",
                "HTMA_BROKER_URL": f"sqla+sqlite:///{data / 'broker.db'}",
                "HTMA_DEAD_LETTER_URL": f"sqlite:///{data / 'dead-letters.db'}",
                "HTMA_SIGNING_KEYS_PATH": str(data / "htma-signing-keys.json"),
                "HTMA_INGREDIENT_URL": self.ingredient_url,
                "HTMA_ISSUER": self.htma_url,
                "HTMA_WEBHOOK_REQUIRE_HTTPS": "false",
                "HTMA_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
                "HTMA_INGREDIENT_WEBHOOK_SECRETS": self.webhook_secret,
                "HTMA_LOG_LEVEL": "warning",
                "INGREDIENT_DATABASE_URL": f"sqlite:///{data / 'ingredient.db'}",
                "INGREDIENT_HTMA_JWKS_URL": f"{self.htma_url}/.well-known/jwks.json",
                "INGREDIENT_TOKEN_ISSUER": self.htma_url,
                "INGREDIENT_WEBHOOK_URL": f"{self.htma_url}/v1/hooks/ingredient",
                "INGREDIENT_WEBHOOK_SECRET": self.webhook_secret,
                "INGREDIENT_WEBHOOK_REQUIRE_HTTPS": "false",
                "INGREDIENT_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
                "INGREDIENT_LOG_LEVEL": "warning",
            }
        )
        # Caller-provided URLs (PostgreSQL, Redis, RabbitMQ) win over the defaults.
        env.update({k: v for k, v in os.environ.items() if k.startswith(("HTMA_", "INGREDIENT_"))})
        env.update(self.env)
        return env

    def run(self, *args: str, timeout: float = DEADLINE) -> str:
        """Run a CLI command to completion; raise with its stderr when it fails."""
        result = subprocess.run(
            [sys.executable, "-m", *args], env=self.environment(), cwd=self.workdir,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def prepare(self) -> None:
        """Migrate both databases and import the ingredient seed catalog."""
        self.run("ingredient.cli", "import-catalog", "--migrate", "--quiet")
        self.run("htma.cli", "migrate")

    def spawn(self, name: str) -> Process:
        """Start one of ``ingredient``, ``htma`` (on its socket), ``worker``."""
        if name in SERVERS and name not in self.listeners:  # started again: a new port
            self._listen(name, 0)
        sock = self.listeners.pop(name, None)
        if sock is None:
            command = ["-m", "htma.cli", "worker", "--loglevel", "WARNING"]
        else:
            command = [str(TOOLS / "demo_serve.py"), name, str(sock.fileno())]
        log = self.workdir / f"{name}.log"
        try:
            with log.open("ab") as out:
                popen = subprocess.Popen(
                    [sys.executable, *command], env=self.environment(), cwd=self.workdir,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                    pass_fds=() if sock is None else (sock.fileno(),),
                )  # fmt: skip
        finally:
            if sock is not None:
                sock.close()  # the server holds the port now
        process = Process(name, popen, log)
        self.processes[name] = process
        return process

    def start(self, names: tuple[str, ...] = ("ingredient", "htma", "worker")) -> None:
        """Start the processes and wait until the services are ready."""
        for name in names:
            self.spawn(name)
        for name, url in (("ingredient", self.ingredient_url), ("htma", self.htma_url)):
            if name in names:
                self.wait_ready(name, url)

    def wait_ready(self, name: str, url: str, timeout: float = DEADLINE) -> None:
        """Poll ``/health/ready`` until it answers 200; fail at once if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.popen.poll() is not None:
                raise RuntimeError(f"{name} exited: {process.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{name} not ready after {timeout} s")

    def stop(self, name: str | None = None) -> None:
        """Stop one process, or all of them (and release the ports not handed over)."""
        for key in [name] if name else list(self.processes):
            process = self.processes.pop(key, None)
            if process is not None:
                process.stop()
        if name is None:
            for sock in self.listeners.values():
                sock.close()
            self.listeners.clear()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".data" / "demo")
    parser.add_argument("--htma-port", type=int, default=0)
    parser.add_argument("--ingredient-port", type=int, default=0)
    parser.add_argument("--exit", action="store_true", help="stop after the walk-through")
    args = parser.parse_args(argv)
    stack = Stack(args.workdir, htma_port=args.htma_port, ingredient_port=args.ingredient_port)
    try:
        print(f"preparing databases under {stack.workdir} ...")
        stack.prepare()
        print("starting ingredient, htma and the htma worker ...")
        stack.start()
        with WebhookSink() as sink:
            walk(stack, sink)
            print()
            print(f"htma:       {stack.htma_url}/docs")
            print(f"ingredient: {stack.ingredient_url}/docs")
            print(f"logs:       {stack.workdir}/*.log")
            if not args.exit:
                print("running; press Ctrl-C to stop")
                stopping = threading.Event()
                # Ctrl-C may arrive twice (``uv run`` forwards it): each just asks to stop.
                signal.signal(signal.SIGINT, lambda *_: stopping.set())
                while not stopping.is_set() and all(
                    p.popen.poll() is None for p in stack.processes.values()
                ):
                    stopping.wait(0.5)
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish stopping whatever happens
        stack.stop()
        print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
