"""The receiver refuses oversized bodies before reading them whole, and rejects signed but
malformed payloads with 400 problem+json, recording each answer."""

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from spaps_webhooks import (
    EventRegistry,
    MemoryReceiptLog,
    MemoryReplayGuard,
    SqlReceiptLog,
    VerifiedWebhook,
    WebhookReceiver,
    WebhookSecret,
    WebhookTables,
    WebhookTooLargeError,
    WebhookVerifier,
    sign_headers,
)
from spaps_webhooks.fastapi import install_error_handlers, webhook_dependency
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SECRET = WebhookSecret.generate()
MiB = 1024 * 1024
CHUNK = 64 * 1024


class ResultReadyV1(BaseModel):
    """A lab result is ready."""

    result_id: int


def make_receiver(log: MemoryReceiptLog, **options: Any) -> WebhookReceiver:
    registry = EventRegistry()
    registry.register("result.ready.v1", ResultReadyV1)
    return WebhookReceiver(
        verifier=WebhookVerifier(secrets=[SECRET]),
        replay_guard=MemoryReplayGuard(),
        registry=registry,
        on_receipt=log,
        **options,
    )


def make_app(receiver: WebhookReceiver, handled: list[VerifiedWebhook]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    Webhook = Annotated[VerifiedWebhook, Depends(webhook_dependency(receiver))]

    @app.post("/hooks")
    async def hooks(webhook: Webhook) -> dict[str, str]:
        handled.append(webhook)
        return {"received": webhook.id}

    return app


class Counted:
    """A request body streamed in chunks, counting the bytes the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"x" * CHUNK


@pytest.fixture
async def client() -> AsyncIterator[Callable[[FastAPI], httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []

    def factory(app: FastAPI) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        made.append(httpx.AsyncClient(transport=transport, base_url="http://receiver"))
        return made[-1]

    yield factory
    for c in made:
        await c.aclose()


def bogus_headers() -> dict[str, str]:
    return {**sign_headers([WebhookSecret.generate()], "msg_big", b"other"), "x-test": "1"}


async def test_a_16_mib_chunked_body_is_refused_without_being_read_whole(
    client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    log = MemoryReceiptLog()
    handled: list[VerifiedWebhook] = []
    body = Counted(16 * MiB)
    response = await client(make_app(make_receiver(log), handled)).post(
        "/hooks", content=body, headers=bogus_headers()
    )
    assert "content-length" not in response.request.headers  # chunked: nothing declared
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "webhooks.body_too_large"
    # The server stopped pulling one chunk past the 1 MiB limit, far from 16 MiB.
    assert body.pulled <= MiB + CHUNK
    [receipt] = log.receipts
    assert (receipt.outcome, receipt.status, receipt.code) == (
        "rejected",
        413,
        "webhooks.body_too_large",
    )
    assert receipt.webhook_id == "msg_big"
    assert receipt.size <= MiB + CHUNK
    assert handled == []


async def test_a_validly_signed_2_mib_body_is_refused(
    client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    log = MemoryReceiptLog()
    body = b'{"type":"result.ready.v1","data":{"result_id":1,"pad":"' + b"x" * 2 * MiB + b'"}}'
    response = await client(make_app(make_receiver(log), [])).post(
        "/hooks", content=body, headers=sign_headers([SECRET], "msg_2mib", body)
    )
    assert response.status_code == 413
    assert response.json()["limit"] == MiB
    assert [r.code for r in log.rejected()] == ["webhooks.body_too_large"]


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], int]]:
    """Serve an app with uvicorn on a socket bound here to port 0 (held, so no race)."""
    running: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def start(app: FastAPI) -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        # Until uvicorn serves, connections wait in the listening socket's backlog.
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread, sock))
        port: int = sock.getsockname()[1]
        return port

    yield start
    for server, thread, sock in running:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def read_response(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_declared_16_mib_body_is_answered_413_over_http_before_it_is_sent(
    serve: Callable[[FastAPI], int],
) -> None:
    log = MemoryReceiptLog()
    handled: list[VerifiedWebhook] = []
    port = serve(make_app(make_receiver(log), handled))
    headers = "".join(f"{k}: {v}\r\n" for k, v in bogus_headers().items())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            (
                "POST /hooks HTTP/1.1\r\nhost: receiver\r\ncontent-type: application/json\r\n"
                f"content-length: {16 * MiB}\r\n{headers}\r\n"
            ).encode()
            + b"{"
        )
        # One byte of 16 MiB sent: the answer comes without the rest.
        head = read_response(conn)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"application/problem+json" in head
    assert [r.code for r in log.rejected()] == ["webhooks.body_too_large"]
    assert handled == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"data": {}}', "no string 'type'"),
        (b'{"type": "result.ready.v1"}', "no object 'data'"),
        (b'{"type": "result.ready.v1", "data": [1]}', "no object 'data'"),
        (b'{"type": "result.ready.v1", "data": {"result_id": "x"}}', "does not match"),
        (b'{"type": "result.ready.v1", "data": {}}', "does not match"),
    ],
)
async def test_a_signed_malformed_payload_answers_400_and_is_recorded(
    client: Callable[[FastAPI], httpx.AsyncClient], body: bytes, detail: str
) -> None:
    log = MemoryReceiptLog()
    handled: list[VerifiedWebhook] = []
    response = await client(make_app(make_receiver(log), handled)).post(
        "/hooks", content=body, headers=sign_headers([SECRET], "msg_bad", body)
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "webhooks.malformed_payload"
    assert problem["webhook_id"] == "msg_bad"
    assert detail in problem["detail"]
    [receipt] = log.receipts
    assert (receipt.outcome, receipt.webhook_id, receipt.status) == ("rejected", "msg_bad", 400)
    assert receipt.code == "webhooks.malformed_payload"
    assert handled == []


async def test_accepted_and_duplicate_requests_are_recorded_with_the_parsed_payload(
    client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    log = MemoryReceiptLog()
    handled: list[VerifiedWebhook] = []
    app = client(make_app(make_receiver(log), handled))
    body = (
        b'{"type":"result.ready.v1","timestamp":"2026-12-06T00:00:00+00:00","data":{"result_id":7}}'
    )
    for _ in range(2):
        response = await app.post("/hooks", content=body, headers=sign_headers([SECRET], "m", body))
        assert response.status_code == 200
    assert [r.outcome for r in log.receipts] == ["accepted", "duplicate"]
    assert log.receipts[1].code == "webhooks.duplicate"
    [webhook] = handled
    assert webhook.event_type == "result.ready.v1"
    assert webhook.data == {"result_id": 7}


async def test_unregistered_types_pass_and_the_envelope_check_can_be_turned_off() -> None:
    log = MemoryReceiptLog()
    body = b'{"type":"other.v1","data":{"anything":true}}'
    webhook = await make_receiver(log).receive(sign_headers([SECRET], "m1", body), body)
    assert webhook.event_type == "other.v1"
    raw = await make_receiver(log, check_envelope=False).receive(
        sign_headers([SECRET], "m2", b"plain text"), b"plain text"
    )
    assert raw.event_type is None
    assert raw.body == b"plain text"


async def test_receive_refuses_oversized_bytes_and_async_hooks_are_awaited() -> None:
    seen: list[str] = []

    async def hook(receipt: Any) -> None:
        seen.append(receipt.outcome)

    receiver = WebhookReceiver(
        verifier=WebhookVerifier(secrets=[SECRET]), max_body_bytes=10, on_receipt=hook
    )
    with pytest.raises(WebhookTooLargeError):
        await receiver.receive(sign_headers([SECRET], "m", b"x" * 11), b"x" * 11)
    assert seen == ["rejected"]


def test_receiver_validates_the_limit() -> None:
    verifier = WebhookVerifier(secrets=[SECRET])
    with pytest.raises(ValueError, match="positive"):
        WebhookReceiver(verifier=verifier, max_body_bytes=0)
    with pytest.raises(TypeError, match="int"):
        WebhookReceiver(verifier=verifier, max_body_bytes=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_receipts"):
        MemoryReceiptLog(max_receipts=0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def receipts_engine(
    request: pytest.FixtureRequest, tmp_path: Any
) -> AsyncIterator[tuple[AsyncEngine, WebhookTables]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'receipts.db'}"
    else:
        pg: str = request.getfixturevalue("postgres_url")
        url = pg.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    tables = WebhookTables(MetaData())
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.create_all)
    yield engine, tables
    await engine.dispose()


async def test_receipts_are_rows_of_the_receipts_table(
    client: Callable[[FastAPI], httpx.AsyncClient],
    receipts_engine: tuple[AsyncEngine, WebhookTables],
) -> None:
    engine, tables = receipts_engine
    log = SqlReceiptLog(engine, tables)
    receiver = WebhookReceiver(
        verifier=WebhookVerifier(secrets=[SECRET]), replay_guard=MemoryReplayGuard(), on_receipt=log
    )
    app = client(make_app(receiver, []))
    good = b'{"type":"x.v1","data":{}}'
    assert (
        await app.post("/hooks", content=good, headers=sign_headers([SECRET], "ok", good))
    ).status_code == 200
    bad = b"not json"
    response = await app.post("/hooks", content=bad, headers=sign_headers([SECRET], "bad", bad))
    assert response.status_code == 400
    [rejected] = await log.recent(outcome="rejected")
    assert (rejected.webhook_id, rejected.status, rejected.code, rejected.size) == (
        "bad",
        400,
        "webhooks.malformed_payload",
        len(bad),
    )
    assert [r.outcome for r in await log.recent()] == ["rejected", "accepted"]
    async with engine.connect() as conn:
        rows = (await conn.execute(select(tables.receipts.c.webhook_id))).scalars().all()
    assert sorted(rows) == ["bad", "ok"]
    with pytest.raises(TypeError, match="AsyncEngine"):
        SqlReceiptLog("sqlite://", tables)  # type: ignore[arg-type]
