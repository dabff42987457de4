"""create_app(strict_error_codes=True): a problem answer with an unregistered code, or a
registered code at another status, fails loudly, whoever rendered it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops import (
    ErrorCode,
    ErrorCodeAuditMiddleware,
    ErrorRegistry,
    ProblemError,
    UnregisteredErrorCodeError,
    configure_logging,
    problem_response,
)
from starlette.requests import Request
from starlette.responses import Response

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
SOLD_OUT = ErrorCode("shop.sold_out", 409, "Sold out", "The item sold out.")


def build(make_app: Callable[..., FastAPI], **options: Any) -> FastAPI:
    app = make_app(error_codes=[SOLD_OUT], **options)

    @app.get("/registered")
    async def registered() -> None:
        raise ProblemError(status=409, code="shop.sold_out", title="Sold out")

    @app.get("/unregistered")
    async def unregistered() -> None:
        raise ProblemError(status=409, code="shop.made_up", title="Made up")

    @app.get("/mis-statused")
    async def mis_statused() -> None:
        raise ProblemError(status=410, code="shop.sold_out", title="Sold out")

    @app.middleware("http")
    async def library_renderer(request: Request, call_next: Any) -> Response:
        # A library rendering its own problem, never through spaps-ops' handlers.
        if request.url.path == "/from-a-library":
            return problem_response(status=429, code="lib.slow_down", title="Slow down")
        response: Response = await call_next(request)
        return response

    return app


async def test_registered_codes_at_their_status_pass(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(build(make_app, strict_error_codes=True))
    answer = await client.get("/registered")
    assert (answer.status_code, answer.json()["code"]) == (409, "shop.sold_out")
    missing = await client.get("/nowhere")  # spaps-ops' own codes are registered
    assert (missing.status_code, missing.json()["code"]) == (404, "ops.not_found")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/unregistered", ("shop.made_up", 409, "not registered")),
        ("/mis-statused", ("shop.sold_out", 410, "registered with status 409")),
        ("/from-a-library", ("lib.slow_down", 429, "not registered")),
    ],
)
async def test_an_unregistered_or_mis_statused_code_fails(
    make_app: Callable[..., FastAPI], make_client: Client, path: str, expected: tuple[Any, ...]
) -> None:
    code, status, reason = expected
    client = await make_client(build(make_app, strict_error_codes=True))
    with pytest.raises(UnregisteredErrorCodeError, match=reason) as raised:
        await client.get(path)
    assert (raised.value.code, raised.value.status) == (code, status)


async def test_without_strict_mode_the_answer_is_sent_and_logged(logs: Any) -> None:
    configure_logging(stream=logs.stream)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        answer = problem_response(status=400, code="shop.unknown", title="Unknown")
        await answer(scope, receive, send)

    audited = ErrorCodeAuditMiddleware(app, registry=ErrorRegistry([SOLD_OUT]), strict=False)
    transport = httpx.ASGITransport(app=audited)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/somewhere")
    assert (answer.status_code, answer.json()["code"]) == (400, "shop.unknown")
    [record] = logs.records("unregistered_error_code")
    assert (record["code"], record["status"], record["path"]) == (
        "shop.unknown", 400, "/somewhere")  # fmt: skip


def test_the_audit_checks_its_registry_argument() -> None:
    with pytest.raises(TypeError, match="ErrorRegistry"):
        ErrorCodeAuditMiddleware(FastAPI(), registry={"shop.sold_out": SOLD_OUT})  # type: ignore[arg-type]
