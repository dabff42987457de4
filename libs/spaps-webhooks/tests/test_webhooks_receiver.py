"""Receiving: the verifier, replay protection and the FastAPI dependency."""

import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

import httpx
import pytest
import redis.asyncio
from fastapi import Depends, FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spaps_jobs import AsyncRedisDedupeStore, AsyncSqlDedupeStore
from spaps_webhooks import (
    MemoryReplayGuard,
    ReplayGuard,
    VerifiedWebhook,
    WebhookDuplicateError,
    WebhookHeaderError,
    WebhookReceiver,
    WebhookSecret,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerifier,
    sign_headers,
)
from spaps_webhooks.fastapi import install_error_handlers, webhook_dependency
from sqlalchemy.ext.asyncio import create_async_engine

SECRET = WebhookSecret.generate()
BODY = b'{"type":"result.ready.v1","data":{"id":1}}'


def signed(msg_id: str = "msg_1", body: bytes = BODY, **kw: Any) -> dict[str, str]:
    return sign_headers([SECRET], msg_id, body, **kw)


def make_app(receiver: WebhookReceiver, handled: list[Any], *, fail: bool = False) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    Webhook = Annotated[VerifiedWebhook, Depends(webhook_dependency(receiver))]

    @app.post("/hooks")
    async def hooks(webhook: Webhook) -> dict[str, str]:
        if fail:
            raise RuntimeError("handler broke")
        handled.append(webhook.json())
        return {"received": webhook.id}

    return app


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def factory(app: FastAPI) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://receiver")
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


def test_timestamp_tolerance_is_five_minutes_by_default() -> None:
    now = 1_700_000_000
    verifier = WebhookVerifier(secrets=[SECRET], clock=lambda: now)
    verifier.verify(signed(timestamp=now - 299), BODY)
    verifier.verify(signed(timestamp=now + 299), BODY)
    with pytest.raises(WebhookTimestampError, match="too old"):
        verifier.verify(signed(timestamp=now - 301), BODY)
    with pytest.raises(WebhookTimestampError, match="future"):
        verifier.verify(signed(timestamp=now + 301), BODY)


def test_tolerance_is_configurable() -> None:
    now = 1_700_000_000
    verifier = WebhookVerifier(secrets=[SECRET], tolerance=timedelta(seconds=10), clock=lambda: now)
    verifier.verify(signed(timestamp=now - 10), BODY)
    with pytest.raises(WebhookTimestampError):
        verifier.verify(signed(timestamp=now - 11), BODY)


def test_any_configured_secret_verifies_during_rotation() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    verifier = WebhookVerifier(secrets=[str(new), old])
    verifier.verify(sign_headers([old], "msg_old", BODY), BODY)
    verifier.verify(sign_headers([new], "msg_new", BODY), BODY)
    with pytest.raises(WebhookSignatureError):
        verifier.verify(sign_headers([WebhookSecret.generate()], "msg_x", BODY), BODY)


def test_headers_are_case_insensitive_for_plain_dicts() -> None:
    headers = {k.title(): v for k, v in signed().items()}
    assert WebhookVerifier(secrets=[SECRET]).verify(headers, BODY).id == "msg_1"


def test_unknown_signature_versions_are_ignored() -> None:
    headers = signed()
    headers["webhook-signature"] = "v1a,c29tZXRoaW5n " + headers["webhook-signature"]
    assert WebhookVerifier(secrets=[SECRET]).verify(headers, BODY).id == "msg_1"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"webhook-id": None}, "webhooks.missing_header"),
        ({"webhook-timestamp": None}, "webhooks.missing_header"),
        ({"webhook-signature": None}, "webhooks.missing_header"),
        ({"webhook-id": ""}, "webhooks.missing_header"),
        ({"webhook-id": "msg with spaces"}, "webhooks.malformed_header"),
        ({"webhook-timestamp": "12.5"}, "webhooks.malformed_header"),
        ({"webhook-timestamp": "-5"}, "webhooks.malformed_header"),
        ({"webhook-timestamp": "soon"}, "webhooks.malformed_header"),
        ({"webhook-signature": "v1"}, "webhooks.malformed_header"),
        ({"webhook-signature": "v1,"}, "webhooks.malformed_header"),
        ({"webhook-signature": "v1,not*base64"}, "webhooks.malformed_header"),
        ({"webhook-signature": "v1,c2hvcnQ="}, "webhooks.malformed_header"),
        ({"webhook-signature": "v1," + "A" * 5000}, "webhooks.malformed_header"),
    ],
)
async def test_malformed_headers_answer_400_problem_json(
    make_client: Callable[..., httpx.AsyncClient], change: dict[str, str | None], code: str
) -> None:
    handled: list[Any] = []
    client = make_client(
        make_app(WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET])), handled)
    )
    headers = signed()
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    response = await client.post("/hooks", content=BODY, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["type"] == f"urn:spaps:problem:{code}"
    assert problem["status"] == 400
    assert problem["header"] in {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert handled == []


@pytest.mark.parametrize(
    ("headers_for", "code"),
    [
        (lambda: signed(timestamp=int(time.time()) - 3600), "webhooks.timestamp_out_of_tolerance"),
        (
            lambda: sign_headers([WebhookSecret.generate()], "msg_1", BODY),
            "webhooks.invalid_signature",
        ),
        (
            lambda: {**signed(), "webhook-signature": "v1a,c2lnbmF0dXJl"},
            "webhooks.invalid_signature",
        ),
        (lambda: signed(body=b"other body"), "webhooks.invalid_signature"),
    ],
)
async def test_bad_timestamp_or_signature_answers_401(
    make_client: Callable[..., httpx.AsyncClient],
    headers_for: Callable[[], dict[str, str]],
    code: str,
) -> None:
    handled: list[Any] = []
    client = make_client(
        make_app(WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET])), handled)
    )
    response = await client.post("/hooks", content=BODY, headers=headers_for())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert handled == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    msg_id=st.one_of(st.none(), st.text(max_size=30)),
    timestamp=st.one_of(st.none(), st.text(max_size=15), st.integers().map(str)),
    signature=st.one_of(st.none(), st.text(max_size=60)),
)
async def test_arbitrary_headers_never_cause_a_500(
    msg_id: str | None, timestamp: str | None, signature: str | None
) -> None:
    app = make_app(WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET])), [])
    headers: dict[str, bytes] = {}
    for name, value in (
        ("webhook-id", msg_id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
    ):
        if value is not None:
            # HTTP header values are bytes (read as latin-1) without control characters.
            clean = "".join(ch for ch in value if " " <= ch <= "\xff" and ch != "\x7f")
            headers[name] = clean.strip().encode("latin-1")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
        response = await client.post("/hooks", content=BODY, headers=headers)
    assert response.status_code in {400, 401}
    assert response.headers["content-type"] == "application/problem+json"


async def test_duplicate_is_absorbed_with_2xx_and_handled_once(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    handled: list[Any] = []
    receiver = WebhookReceiver(
        verifier=WebhookVerifier(secrets=[SECRET]), replay_guard=MemoryReplayGuard()
    )
    client = make_client(make_app(receiver, handled))
    first = await client.post("/hooks", content=BODY, headers=signed("msg_dup"))
    # The sender retries with a new timestamp (and so a new signature): same webhook-id.
    second = await client.post(
        "/hooks", content=BODY, headers=signed("msg_dup", timestamp=int(time.time()) + 1)
    )
    assert first.status_code == 200
    assert first.json() == {"received": "msg_dup"}
    assert second.status_code == 200
    assert second.json()["code"] == "webhooks.duplicate"
    assert len(handled) == 1


async def test_failed_handler_releases_the_id_so_the_retry_is_processed(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    guard = MemoryReplayGuard()
    receiver = WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET]), replay_guard=guard)
    broken = make_client(make_app(receiver, [], fail=True))
    response = await broken.post("/hooks", content=BODY, headers=signed("msg_retry"))
    assert response.status_code == 500  # the app's own bug, not the verifier's
    handled: list[Any] = []
    fixed = make_client(make_app(receiver, handled))
    response = await fixed.post("/hooks", content=BODY, headers=signed("msg_retry"))
    assert response.status_code == 200
    assert len(handled) == 1


async def test_memory_guard_forgets_after_ttl() -> None:
    clock = [0.0]
    guard = MemoryReplayGuard(clock=lambda: clock[0])
    assert await guard.claim("k", 10)
    assert not await guard.claim("k", 10)
    clock[0] = 11
    assert await guard.claim("k", 10)


async def test_memory_guard_is_bounded() -> None:
    guard = MemoryReplayGuard(max_keys=3)
    for n in range(10):
        assert await guard.claim(f"k{n}", 60)
    assert not await guard.claim("k9", 60)
    assert await guard.claim("k0", 60)  # evicted, oldest first


async def test_spaps_jobs_sql_dedupe_store_is_a_replay_guard(tmp_path: Any) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'dedupe.db'}")
    store = AsyncSqlDedupeStore(engine)
    await store.create_table()
    assert isinstance(store, ReplayGuard)
    receiver = WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET]), replay_guard=store)
    webhook = await receiver.receive(signed("msg_sql"), BODY)
    with pytest.raises(WebhookDuplicateError):
        await receiver.receive(signed("msg_sql"), BODY)
    await receiver.forget(webhook)
    assert (await receiver.receive(signed("msg_sql"), BODY)).id == "msg_sql"
    await engine.dispose()


@pytest.mark.redis
async def test_spaps_jobs_redis_dedupe_store_is_a_replay_guard(
    redis_url: str, unique_name: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = AsyncRedisDedupeStore(client, prefix=f"{unique_name}:")
    receiver = WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET]), replay_guard=store)
    try:
        await receiver.receive(signed("msg_redis"), BODY)
        with pytest.raises(WebhookDuplicateError):
            await receiver.receive(signed("msg_redis"), BODY)
    finally:
        keys = [k async for k in client.scan_iter(f"{unique_name}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def test_verifier_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        WebhookVerifier(secrets=[])
    with pytest.raises(ValueError, match="tolerance"):
        WebhookVerifier(secrets=[SECRET], tolerance=timedelta(0))
    with pytest.raises(TypeError, match="verifier"):
        WebhookReceiver(verifier="nope")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="replay_guard"):
        WebhookReceiver(verifier=WebhookVerifier(secrets=[SECRET]), replay_guard=object())  # type: ignore[arg-type]


def test_header_error_carries_the_header_name() -> None:
    with pytest.raises(WebhookHeaderError) as caught:
        WebhookVerifier(secrets=[SECRET]).verify({}, BODY)
    assert caught.value.header == "webhook-id"
    assert caught.value.status == 400
