"""The demo app (``examples/ops_demo.py``, started by ``make demo``) answers its routes."""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
DEMO = Path(__file__).resolve().parents[3] / "examples" / "ops_demo.py"


@pytest.fixture
def demo() -> ModuleType:
    if not DEMO.exists():
        pytest.skip("not applicable: examples/ops_demo.py is not part of this checkout")
    spec = importlib.util.spec_from_file_location("ops_demo", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_demo_routes(demo: ModuleType, make_client: Client, logs: Any) -> None:
    settings = demo.DemoSettings(_env_file=None)
    app = demo.build_app(settings, log_stream=logs.stream)
    client = await make_client(app)

    found = await client.get("/items/1")
    assert found.json() == {"name": "magnesium glycinate", "price": 12.5}
    missing = await client.get("/items/999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "demo.item_not_found"
    assert missing.json()["item_id"] == 999
    created = await client.post("/items", json={"name": "zinc", "price": 4})
    assert created.status_code == 201
    assert (await client.get(f"/items/{created.json()['id']}")).json()["name"] == "zinc"
    invalid = await client.post("/items", json={"name": "", "price": -1})
    assert [e["field"] for e in invalid.json()["errors"]] == ["body.name", "body.price"]
    health = await client.get("/health")
    assert health.json()["service"] == "ops-demo"
    assert health.json()["checks"]["catalogue"]["details"] == {"items": 2}
    assert logs.records("http_request")[0]["route"] == "/items/{item_id}"


def test_demo_reads_its_prefix(demo: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_SERVICE_NAME", "renamed")
    assert demo.DemoSettings(_env_file=None).service_name == "renamed"
