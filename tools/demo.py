"""Run both services and a worker, seed demo data and walk the main flow.

    uv run --no-sync python tools/demo.py          # or: make demo

Embedded defaults (SQLite files, an embedded SQLite broker) under ``.data/demo/``; set
``HTMA_DATABASE_URL``, ``INGREDIENT_DATABASE_URL``, ``HTMA_BROKER_URL`` (PostgreSQL,
Redis, RabbitMQ) to run on those instead. The flow: sign up a clinic -> add a
practitioner and a patient -> register a webhook endpoint -> submit a mineral panel ->
the worker computes the result (with food recommendations from ingredient) -> the
``result.ready.v1`` webhook arrives, signature verified -> an editor updates an
ingredient. The services then keep running, with their docs URLs printed, until Ctrl-C.

The :class:`Stack` and :class:`WebhookSink` here are also used by ``tests/smoke``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from spaps_webhooks import WebhookVerificationError, WebhookVerifier

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"  # noqa: S105 -- the demo accounts' password
PANEL = {"Ca": 58.0, "Mg": 3.1, "Na": 24.0, "K": 9.5, "P": 15.0, "Zn": 11.0, "Cu": 2.6, "Fe": 2.0}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

    Args:
        workdir: holds the SQLite files, keys, broker and logs.
        env: extra environment (database, broker URLs...), over the embedded defaults.
    """

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    htma_port: int = 0
    ingredient_port: int = 0
    processes: dict[str, Process] = field(default_factory=dict)
    webhook_secret: str = ""

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.htma_port = self.htma_port or free_port()
        self.ingredient_port = self.ingredient_port or free_port()
        self.webhook_secret = self.webhook_secret or "whsec_" + _b64(secrets.token_bytes(32))

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

    def run(self, *args: str, timeout: float = 120) -> str:
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
        """Start one of ``ingredient``, ``htma``, ``worker``."""
        commands = {
            "ingredient": ["ingredient.cli", "serve", "--port", str(self.ingredient_port)],
            "htma": ["htma.cli", "serve", "--port", str(self.htma_port)],
            "worker": ["htma.cli", "worker", "--loglevel", "WARNING"],
        }
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", *commands[name]], env=self.environment(),
                cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
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

    def wait_ready(self, name: str, url: str, timeout: float = 60) -> None:
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
        """Stop one process, or all of them."""
        for key in [name] if name else list(self.processes):
            process = self.processes.pop(key, None)
            if process is not None:
                process.stop()


class WebhookSink:
    """A webhook receiver on a free port that verifies every delivery.

    ``fail_next`` makes the next N deliveries answer 500 (to test redelivery).
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.verifier: WebhookVerifier | None = None
        self.fail_next = 0
        self.rejected = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = sink.handle({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500
            if self.verifier is None:
                return 503
            try:
                webhook = self.verifier.verify(headers, body)
            except WebhookVerificationError:
                self.rejected += 1
                return 401
            if webhook.id not in self.ids:  # redeliveries carry the same webhook-id
                self.ids.append(webhook.id)
                self.events.append(webhook.json())
            return 204

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self.events):
                    return True
            time.sleep(0.2)
        return False


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _check(response: httpx.Response, expected: int) -> Any:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json() if response.content else {}


def wait_result(
    client: httpx.Client, headers: dict[str, str], panel_id: str, timeout: float
) -> dict[str, Any]:
    """Poll ``GET /v1/panels/{id}/result`` until it is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/panels/{panel_id}/result", headers=headers)
        if response.status_code == 200:
            return dict(response.json())
        if response.status_code != 409:
            _check(response, 200)
        time.sleep(0.3)
    raise TimeoutError(f"no result for panel {panel_id} after {timeout} s")


def walk(
    stack: Stack, sink: WebhookSink, say: Callable[[str], None] = print, clinic: str | None = None
) -> dict[str, Any]:
    """Drive the main flow over HTTP, printing each step; returns what it saw."""
    clinic = clinic or f"demo-{secrets.token_hex(3)}"
    seen: dict[str, Any] = {"clinic": clinic}
    with httpx.Client(base_url=stack.htma_url, timeout=10) as htma:
        signup = _check(htma.post("/v1/auth/signup", json={
            "clinic_id": clinic, "clinic_name": "Demo Clinic", "email": f"admin@{clinic}.example",
            "password": PASSWORD, "display_name": "Ada Admin"}), 201)  # fmt: skip
        admin = {"Authorization": f"Bearer {signup['tokens']['access_token']}"}
        say(f"1. signed up clinic {clinic!r}; lab admin {signup['user']['email']}")
        ids = {}
        for role, name in (("practitioner", "Dr Pia Practitioner"), ("patient", "Pat Patient")):
            user = _check(htma.post("/v1/users", headers=admin, json={
                "email": f"{role}@{clinic}.example", "password": PASSWORD,
                "display_name": name, "role": role}), 201)  # fmt: skip
            ids[role] = user["id"]
        say(
            f"2. added practitioner {ids['practitioner'][:8]}..."
            f" and patient {ids['patient'][:8]}..."
        )
        endpoint = _check(htma.post("/v1/webhooks/endpoints", headers=admin, json={
            "url": sink.url, "event_types": ["result.ready.v1"]}), 201)  # fmt: skip
        sink.verifier = WebhookVerifier(secrets=[endpoint["secret"]])
        say(f"3. registered webhook endpoint {sink.url} for result.ready.v1")
        token = _check(htma.post("/v1/auth/login", json={
            "email": f"practitioner@{clinic}.example", "password": PASSWORD}), 200)  # fmt: skip
        practitioner = {"Authorization": f"Bearer {token['access_token']}"}
        panel = _check(htma.post("/v1/panels", headers=practitioner, json={
            "patient_id": ids["patient"], "sampled_on": "2026-11-20",
            "minerals": PANEL}), 202)  # fmt: skip
        say(f"4. practitioner submitted panel {panel['id'][:8]}... (status {panel['status']})")
        result = wait_result(htma, practitioner, panel["id"], timeout=60)
        flags = ", ".join(
            f"{r['name']}={r['value']} ({r['flag']})" for r in result["analysis"]["ratios"]
        )
        say(f"5. worker computed the result: {flags}; deficient: {', '.join(result['deficient'])}")
        arrived = sink.wait_for(
            lambda events: any(e["data"]["panel_id"] == panel["id"] for e in events), 60
        )
        if not arrived:
            raise TimeoutError("the result.ready webhook did not arrive")
        event = next(e for e in sink.events if e["data"]["panel_id"] == panel["id"])
        say(
            f"6. webhook {event['type']} arrived, signature verified:"
            f" {json.dumps(event['data'])[:120]}..."
        )
        recommendations = result["recommendations"] or {}
        say(f"7. recommendations ({recommendations.get('status')}):")
        for symbol, foods in (recommendations.get("minerals") or {}).items():
            names = "; ".join(f"{f['name']} {f['amount']:g} {f['unit']}/100 g" for f in foods[:3])
            say(f"     {symbol}: {names}")
        food = (recommendations.get("minerals") or {}).get("Mg", [{"code": "D063"}])[0]["code"]
        with httpx.Client(base_url=stack.ingredient_url, timeout=10) as ingredient:
            current = _check(ingredient.get(f"/v1/ingredients/{food}", headers=admin), 200)
            edited = _check(ingredient.patch(
                f"/v1/ingredients/{food}", headers={**admin, "If-Match": str(current["version"])},
                json={"fat_g": (current["nutrients"]["fat_g"] or 0) + 0.1}), 200)  # fmt: skip
        say(f"8. the lab admin, as an ingredient editor, updated {edited['name']!r} "
            f"to version {edited['version']}")  # fmt: skip
        deadline = time.monotonic() + 30
        updates: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not updates:
            listed = _check(htma.get("/v1/catalog/updates", headers=practitioner), 200)
            updates = [u for u in listed if u["code"] == food and u["version"] == edited["version"]]
            time.sleep(0.3)
        if not updates:
            raise TimeoutError("htma did not receive the ingredient.updated webhook")
        say(f"9. htma received and verified ingredient.updated for {food} v{edited['version']}")
        seen.update(admin=admin, practitioner=practitioner, panel=panel, result=result, event=event,
                    patient_id=ids["patient"], food=food)  # fmt: skip
    return seen


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
