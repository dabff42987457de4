"""A webhook receiver run as a real uvicorn process by the tests (not a test module).

It verifies every request with spaps-webhooks (secret from ``RECEIVER_SECRETS``), absorbs
duplicates by ``webhook-id``, and misbehaves on demand: ``POST /control`` sets the mode.
"""

import asyncio
import os
import random
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

receiver = WebhookReceiver(
    verifier=WebhookVerifier(secrets=os.environ["RECEIVER_SECRETS"].split(",")),
    replay_guard=MemoryReplayGuard(),
)
state: dict[str, Any] = {
    "mode": "ok",
    "fail_rate": 0.5,
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
app = FastAPI()


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
    if mode == "flaky" and random.random() < state["fail_rate"]:
        state["failed"] += 1
        return JSONResponse({"error": "flaky"}, status_code=500)
    if mode == "hang":
        await asyncio.sleep(state["hang_seconds"])
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
        webhook = await receiver.receive(request.headers, await request.body())
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
