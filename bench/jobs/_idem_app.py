"""ASGI app of the idempotency benchmark (``uvicorn --factory _idem_app:make_app``)."""

from __future__ import annotations

import os
from typing import Any

import redis.asyncio
from fastapi import FastAPI
from pydantic import BaseModel
from spaps_jobs import AsyncRedisDedupeStore, IdempotencyMiddleware
from starlette.types import ASGIApp


class Order(BaseModel):
    item: str
    quantity: int


def make_app() -> ASGIApp:
    app = FastAPI()
    counter = {"n": 0}

    @app.post("/orders", status_code=201)
    async def create(order: Order) -> dict[str, Any]:
        counter["n"] += 1
        return {"id": counter["n"], "item": order.item, "quantity": order.quantity}

    if os.environ["BENCH_MODE"] == "bare":
        return app
    client = redis.asyncio.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    store = AsyncRedisDedupeStore(client, prefix=os.environ["BENCH_PREFIX"])
    return IdempotencyMiddleware(app, store=store, ttl=600)
