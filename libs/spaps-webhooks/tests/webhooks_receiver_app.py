"""A webhook receiver run as a real uvicorn process by the tests (not a test module).

It verifies every request with spaps-webhooks (secret from ``RECEIVER_SECRETS``), absorbs
duplicates by ``webhook-id``, and misbehaves on demand: ``POST /control`` sets the mode.
Misbehaviour is deterministic: ``flaky`` fails a ``fail_rate`` share of requests in a
fixed pattern (0.5 fails every second one, 1.0 every one), never at random.
``POST /reset`` returns it to its initial state, so the tests can reuse one process.
"""

import asyncio
import os
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from spaps_webhooks import (
    MemoryReplayGuard,
    SpapsWebhooksError,
    WebhookDuplicateError,
    WebhookReceiver,
    WebhookVerifier,
)


def initial_state() -> dict[str, Any]:
    return {
        "mode": "ok",
        "fail_rate": 0.5,
        "fail_debt": 0.0,
        "retry_after": 1,
        "hang_seconds": 60.0,
        "requests": 0,
        "handled": [],
        "duplicates": 0,
        "rejected": 0,
        "failed": 0,
        "hosts": [],
        "signatures": [],
    }


def new_receiver() -> WebhookReceiver:
    return WebhookReceiver(
        verifier=WebhookVerifier(secrets=os.environ["RECEIVER_SECRETS"].split(",")),
        replay_guard=MemoryReplayGuard(),
    )


receivers = [new_receiver()]
state: dict[str, Any] = initial_state()
app = FastAPI()


@app.post("/reset")
async def reset() -> dict[str, Any]:
    state.clear()
    state.update(initial_state())
    receivers[0] = new_receiver()
    return state


@app.post("/control")
async def control(request: Request) -> dict[str, Any]:
    state.update(await request.json())
    return {"mode": state["mode"]}


@app.get("/stats")
async def stats() -> dict[str, Any]:
    return state


@app.post("/hook")
async def hook(  # noqa: PLR0911 -- one branch per misbehaviour, read top to bottom
    request: Request,
) -> Response:
    state["requests"] += 1
    state["hosts"].append(request.headers.get("host"))
    state["signatures"].append(request.headers.get("webhook-signature"))
    mode = state["mode"]
    if mode == "flaky":
        state["fail_debt"] += state["fail_rate"]
        if state["fail_debt"] >= 1:
            state["fail_debt"] -= 1
            state["failed"] += 1
            return JSONResponse({"error": "flaky"}, status_code=500)
    if mode == "hang":
        await asyncio.sleep(state["hang_seconds"])  # sleep-ok: a receiver that hangs is the fault
        return Response(status_code=503)
    if mode == "gone":
        return Response(status_code=410)
    if mode == "throttle":
        return Response(status_code=429, headers={"retry-after": str(state["retry_after"])})
    if mode == "big":
        return Response(b"x" * 2_000_000, status_code=500)
    if mode == "redirect":
        return RedirectResponse("/elsewhere", status_code=307)
    try:
        webhook = await receivers[0].receive(request.headers, await request.body())
    except WebhookDuplicateError:
        state["duplicates"] += 1
        return JSONResponse({"duplicate": True})
    except SpapsWebhooksError as exc:
        state["rejected"] += 1
        return JSONResponse({"code": exc.code}, status_code=exc.status)
    state["handled"].append(webhook.id)
    return JSONResponse({"ok": True, "id": webhook.id})


@app.post("/elsewhere")
async def elsewhere() -> dict[str, bool]:
    state["redirect_followed"] = True
    return {"ok": True}
