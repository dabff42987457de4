"""A small service built with spaps-ops; ``make demo`` runs it.

Open http://127.0.0.1:8000/docs, then try ``/items/1``, ``/items/999`` (a problem+json
404 raised by a domain error), ``/health``, ``/metrics``; stop with Ctrl-C. Settings come
from ``DEMO_*`` environment variables or ``.env`` (e.g. ``DEMO_LOG_JSON=false``).
"""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from spaps_ops import ErrorCode, OpsSettings, create_app, get_ops

HOST, PORT = "127.0.0.1", 8000


class DemoSettings(OpsSettings):
    """The demo's settings: the spaps-ops fields under the ``DEMO_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="DEMO_", env_file=".env", extra="ignore")

    service_name: str = "ops-demo"
    service_version: str = "0.1.0"


class ItemNotFoundError(Exception):
    """The item does not exist (any exception with status/code/title renders as a problem)."""

    status = 404
    code = "demo.item_not_found"
    title = "Item not found"

    def __init__(self, item_id: int) -> None:
        super().__init__(item_id)
        self.detail = f"there is no item {item_id}"
        self.extensions = {"item_id": item_id}


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)


def build_app(settings: DemoSettings | None = None, **options: Any) -> FastAPI:
    """The demo app (settings from the environment unless given; ``options`` go to
    ``create_app``)."""
    app = create_app(
        settings or DemoSettings(),
        error_codes=[ErrorCode("demo.item_not_found", 404, "Item not found", "No such item.")],
        **options,
    )
    items: dict[int, Item] = {1: Item(name="magnesium glycinate", price=12.5)}

    async def catalogue_check() -> dict[str, int]:
        return {"items": len(items)}

    get_ops(app).add_check("catalogue", catalogue_check)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> Item:
        if item_id not in items:
            raise ItemNotFoundError(item_id)
        return items[item_id]

    @app.post("/items", status_code=201)
    async def create_item(item: Item) -> dict[str, int]:
        item_id = max(items, default=0) + 1
        items[item_id] = item
        return {"id": item_id}

    return app


def main() -> None:
    """Serve the demo until Ctrl-C."""
    banner = f"spaps-ops demo: docs at http://{HOST}:{PORT}/docs (Ctrl-C stops)"
    print(banner, flush=True)
    uvicorn.run(build_app(), host=HOST, port=PORT, access_log=False)


if __name__ == "__main__":
    main()
