"""Access to the catalog: API keys with per-plan limits, htma tokens via JWKS, editors."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from spaps_auth import TokenIssuer
from spaps_ops.db import open_engine
from spaps_ratelimit import MemoryStore
from spaps_ratelimit.testing import ManualClock
from spaps_webhooks import SealingKey, WebhookVerifier
from sqlalchemy import text

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELIVERY_DEADLINE = 300.0


async def test_reading_needs_credentials(seeded_url: str, make_client: Any) -> None:
    async with make_client(database_url=seeded_url) as client:
        anonymous = await client.get("/v1/ingredients")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        bad = await client.get("/v1/ingredients", headers={"X-API-Key": "ik_nope_nope"})
        assert bad.status_code == 401
        # the data's attribution and licence stay public
        assert (await client.get("/v1/attribution")).status_code == 200


#: The codes refusing bad credentials; a route that needs credentials adds its own 401.
BAD_CREDENTIALS = {"auth.invalid_api_key", "auth.invalid_token", "auth.token_expired"}


@pytest.mark.parametrize(
    "route",
    [
        ("/v1/ingredients/A001", "/v1/ingredients/{code}", 401),
        # Public: served without credentials, but credentials that are sent are checked.
        ("/v1/attribution", "/v1/attribution", 200),
    ],
)
async def test_the_documented_401s_are_the_ones_a_route_answers(
    seeded_url: str, make_client: Any, issuer: Any, route: tuple[str, str, int]
) -> None:
    """No credentials, an unknown API key, a malformed token, an expired one: each 401's
    code is documented on the route, and no other 401 code is."""
    path, template, without_credentials = route
    an_hour_ago = TokenIssuer(
        keys=issuer.keys, issuer="htma", audience="spaps", clock=lambda: time.time() - 3600
    )
    expired = an_hour_ago.issue("user-1", roles=["practitioner"])
    answered = set()
    async with make_client(database_url=seeded_url) as client:
        spec = (await client.get("/openapi.json")).json()
        anonymous = await client.get(path)
        assert anonymous.status_code == without_credentials, anonymous.text
        if without_credentials == 401:
            answered.add(anonymous.json()["code"])
        for headers in (
            {"X-API-Key": "ik_nope_nope"},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": f"Bearer {expired}"},
        ):
            refused = await client.get(path, headers=headers)
            assert refused.status_code == 401, refused.text
            answered.add(refused.json()["code"])
    operation = spec["paths"][template]["get"]
    assert (operation["security"] == []) == (without_credentials == 200)
    entry = operation["responses"]["401"]
    documented = set(entry["content"]["application/problem+json"]["examples"])
    expected = BAD_CREDENTIALS | ({"auth.unauthenticated"} if without_credentials == 401 else set())
    assert answered == documented == expected


async def test_plans_limit_each_key(
    seeded_url: str, make_client: Any, make_key: Any, issuer: Any
) -> None:
    free, pro = await make_key("free"), await make_key("pro")
    plans = {"free": "3/minute", "pro": "100/minute", "token": "100/minute"}
    # A clock that stands still: no budget refills while a slow machine sends the requests.
    store = MemoryStore(clock=ManualClock())
    async with make_client(database_url=seeded_url, plans=plans, ratelimit_store=store) as client:
        codes = [
            (await client.get("/v1/minerals", headers={"X-API-Key": free})).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        limited = await client.get("/v1/minerals", headers={"X-API-Key": free})
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"] == "application/problem+json"
        ok = await client.get("/v1/minerals", headers={"X-API-Key": pro})
        assert ok.status_code == 200
        token = {"Authorization": f"Bearer {issuer.token('service')}"}
        assert (await client.get("/v1/minerals", headers=token)).status_code == 200


async def test_the_layers_decide_before_the_routes(
    seeded_url: str, make_client: Any, make_key: Any
) -> None:
    free = await make_key("free")
    plans = {"free": "1/minute", "pro": "100/minute", "token": "100/minute"}
    store = MemoryStore(clock=ManualClock())
    async with make_client(database_url=seeded_url, plans=plans, ratelimit_store=store) as client:
        key = {"X-API-Key": free}
        admitted = await client.get("/v1/ingredients/A001", headers=key)
        assert admitted.status_code == 200
        assert admitted.headers["ratelimit-policy"]  # decided by RateLimitMiddleware
        # The read routes share the plan's budget: RateLimitMiddleware refuses the next one.
        limited = await client.get("/v1/minerals", headers=key)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        body = limited.json()
        assert body["code"] == "ratelimit.rate_limited"
        assert body["instance"] == "/v1/minerals"
        assert body["request_id"] == limited.headers["x-request-id"]
        assert int(limited.headers["retry-after"]) >= 1
        # Without credentials a read route answers 401 itself (spaps-ops renders it) ...
        anonymous = await client.get("/v1/minerals", headers={"X-Request-ID": "req-anon-1"})
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == "auth.unauthenticated"
        assert anonymous.json()["request_id"] == "req-anon-1"
        # ... while an unknown path stays 404 and the public route stays public.
        assert (await client.get("/v1/nowhere")).status_code == 404
        assert (await client.get("/v1/attribution")).status_code == 200
        # Invalid credentials are refused on every route, the public one too.
        bad = await client.get("/v1/attribution", headers={"X-API-Key": "ik_nope_nope"})
        assert bad.status_code == 401
        assert bad.json()["code"] == "auth.invalid_api_key"


async def test_htma_tokens_verify_and_keep_working_while_htma_is_down(
    seeded_url: str, make_client: Any, issuer: Any
) -> None:
    token = {"Authorization": f"Bearer {issuer.token('practitioner')}"}
    async with make_client(database_url=seeded_url) as client:
        assert (await client.get("/v1/ingredients/A001", headers=token)).status_code == 200
        issuer.up = False  # htma goes down: the cached JWKS keeps verifying
        for _ in range(3):
            assert (await client.get("/v1/ingredients/A001", headers=token)).status_code == 200
        wrong_audience = issuer.token("practitioner", aud="elsewhere")
        refused = await client.get(
            "/v1/ingredients/A001", headers={"Authorization": f"Bearer {wrong_audience}"}
        )
        assert refused.status_code == 401


async def test_only_editors_update(
    seeded_url: str, make_client: Any, issuer: Any, api_key: str
) -> None:
    async with make_client(database_url=seeded_url) as client:
        for headers in (
            {"Authorization": f"Bearer {issuer.token('patient')}"},
            {"Authorization": f"Bearer {issuer.token('lab_admin')}"},  # a tenant role
            {"X-API-Key": api_key},
        ):
            denied = await client.patch("/v1/ingredients/A001", headers=headers, json={"fat_g": 1})
            assert denied.status_code == 403


async def test_an_edit_bumps_the_version_and_publishes_the_event(
    seeded_url: str, make_client: Any, editor_headers: dict[str, str]
) -> None:
    editor = editor_headers
    async with make_client(database_url=seeded_url) as client:
        before = (await client.get("/v1/ingredients/A001", headers=editor)).json()
        stale = await client.patch(
            "/v1/ingredients/A001", headers={**editor, "If-Match": "99"}, json={"fat_g": 1.5}
        )
        assert stale.status_code == 412
        assert stale.json()["code"] == "ingredient.version_mismatch"
        malformed = await client.patch(
            "/v1/ingredients/A001", headers={**editor, "If-Match": "null"}, json={"fat_g": 1.5}
        )
        assert malformed.status_code == 422
        assert malformed.json()["errors"][0]["field"] == "header.if-match"
        edited = await client.patch(
            "/v1/ingredients/A001",
            headers={**editor, "If-Match": str(before["version"])},
            json={"fat_g": 1.5, "minerals": {"Mg": 300.0}},
        )
        assert edited.status_code == 200
        body = edited.json()
        assert body["version"] == before["version"] + 1
        assert body["nutrients"]["fat_g"] == 1.5
        assert {m["symbol"]: m["amount"] for m in body["minerals"]}["Mg"] == 300.0
        nameless = await client.patch("/v1/ingredients/A001", headers=editor, json={"name": None})
        assert nameless.status_code == 400
        assert nameless.json()["code"] == "ingredient.invalid_query"
        unknown = await client.patch(
            "/v1/ingredients/A001", headers=editor, json={"minerals": {"Xx": 1.0}}
        )
        assert unknown.status_code == 404
    async with open_engine(seeded_url) as engine, engine.connect() as connection:
        rows = (await connection.execute(text("SELECT topic, payload FROM spaps_outbox"))).all()
    assert len(rows) == 1
    payload = rows[0][1] if isinstance(rows[0][1], dict) else json.loads(rows[0][1])
    assert payload["event_type"] == "ingredient.updated.v1"
    assert payload["owner"] == "htma"
    assert json.loads(payload["body"])["data"]["changed"] == ["fat_g", "magnesium_mg"]


class _Sink:
    def __init__(self) -> None:
        self.verifier = WebhookVerifier(secrets=[SECRET])
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                sink.received.append(sink.verifier.verify(headers, body).json())
                sink.arrived.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def subscriber(self) -> dict[str, Any]:
        """The settings that make ingredient deliver to this sink (plain http, loopback)."""
        return {
            "webhook_url": self.url,
            "webhook_secret": SECRET,
            "webhook_require_https": False,
            "webhook_allow_networks": ["127.0.0.0/8"],
        }


@pytest.fixture
def sink() -> Iterator[_Sink]:
    receiver = _Sink()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


async def test_the_subscriber_receives_a_signed_webhook(
    seeded_url: str, make_client: Any, editor_headers: dict[str, str], sink: _Sink
) -> None:
    editor = editor_headers
    async with make_client(database_url=seeded_url, **sink.subscriber()) as client:
        response = await client.patch("/v1/ingredients/D063", headers=editor, json={"fat_g": 0.7})
        assert response.status_code == 200
        # The delivery thread posts it; the deadline only fails a delivery that never comes.
        assert await asyncio.to_thread(sink.arrived.wait, DELIVERY_DEADLINE)
    assert len(sink.received) == 1
    event = sink.received[0]
    assert event["type"] == "ingredient.updated.v1"
    assert event["data"]["code"] == "D063"
    assert event["data"]["changed"] == ["fat_g"]


async def test_with_sealing_keys_the_subscriber_secret_is_stored_sealed_and_still_signs(
    seeded_url: str, make_client: Any, editor_headers: dict[str, str], sink: _Sink
) -> None:
    key = SealingKey.generate("k1")
    async with make_client(
        database_url=seeded_url, webhook_sealing_keys=[str(key)], **sink.subscriber()
    ) as client:
        async with open_engine(seeded_url) as engine, engine.connect() as connection:
            rows = (await connection.execute(text("SELECT * FROM webhook_endpoints"))).all()
        assert len(rows) == 1  # the subscriber the app created at startup
        dump = repr([tuple(row) for row in rows])
        assert SECRET not in dump
        assert SECRET.removeprefix("whsec_") not in dump
        assert rows[0].secret.startswith("sealed:v1:k1:")
        response = await client.patch(
            "/v1/ingredients/D063", headers=editor_headers, json={"fat_g": 0.7}
        )
        assert response.status_code == 200
        assert await asyncio.to_thread(sink.arrived.wait, DELIVERY_DEADLINE)
    # The receiver verified the signature with the plaintext secret.
    assert [e["data"]["code"] for e in sink.received] == ["D063"]
