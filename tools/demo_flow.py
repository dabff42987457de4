"""The demo's main flow over HTTP and the webhook receiver it registers (``tools/demo.py``
runs them; ``tests/smoke`` drives them too).

The flow: sign up a clinic -> add a practitioner and a patient -> register a webhook
endpoint -> submit a mineral panel -> the worker computes the result (with food
recommendations from ingredient) -> the ``result.ready.v1`` webhook arrives, signature
verified -> an editor updates an ingredient -> htma receives ``ingredient.updated``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
from spaps_webhooks import WebhookVerificationError, WebhookVerifier

if TYPE_CHECKING:
    from demo import Stack

PASSWORD = "correct horse battery staple"  # noqa: S105 -- the demo accounts' password
PANEL = {"Ca": 58.0, "Mg": 3.1, "Na": 24.0, "K": 9.5, "P": 15.0, "Zn": 11.0, "Cu": 2.6, "Fe": 2.0}
#: How long a step may take before the walk gives up: only a hung stack ever needs it.
STEP_DEADLINE = 300.0
#: One HTTP request's limit (the services answer in milliseconds when not hung).
REQUEST_TIMEOUT = 60.0


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
    with httpx.Client(base_url=stack.htma_url, timeout=REQUEST_TIMEOUT) as htma:
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
        result = wait_result(htma, practitioner, panel["id"], timeout=STEP_DEADLINE)
        flags = ", ".join(
            f"{r['name']}={r['value']} ({r['flag']})" for r in result["analysis"]["ratios"]
        )
        say(f"5. worker computed the result: {flags}; deficient: {', '.join(result['deficient'])}")
        arrived = sink.wait_for(
            lambda events: any(e["data"]["panel_id"] == panel["id"] for e in events),
            STEP_DEADLINE,
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
        # The catalog is shared by every clinic: no clinic role edits it; an operator grants
        # the platform permission to one user (audited).
        stack.run("ingredient.cli", "editors", "grant", signup["user"]["id"], "--by", "demo")
        with httpx.Client(base_url=stack.ingredient_url, timeout=REQUEST_TIMEOUT) as ingredient:
            current = _check(ingredient.get(f"/v1/ingredients/{food}", headers=admin), 200)
            edited = _check(ingredient.patch(
                f"/v1/ingredients/{food}", headers={**admin, "If-Match": str(current["version"])},
                json={"fat_g": (current["nutrients"]["fat_g"] or 0) + 0.1}), 200)  # fmt: skip
        say(f"8. the lab admin, granted catalog editing by an operator, updated {edited['name']!r} "
            f"to version {edited['version']}")  # fmt: skip
        deadline = time.monotonic() + STEP_DEADLINE
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
