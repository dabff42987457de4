"""RFC 9457 problem+json for every error, and the error-code registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from spaps_ops import (
    OPS_ERROR_CODES,
    DuplicateErrorCodeError,
    ErrorCode,
    ErrorRegistry,
    ProblemError,
    get_ops,
    is_problem,
)

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
PROBLEM = "application/problem+json"


class OutOfStockError(Exception):
    """A sibling library's error: follows the protocol without importing spaps-ops."""

    status = 409
    code = "shop.out_of_stock"
    title = "Out of stock"

    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.detail = f"{sku} is sold out"
        self.headers = {"Retry-After": "3600"}
        self.extensions = {"sku": sku, "status": 999}  # cannot override standard members


class Order(BaseModel):
    sku: str
    quantity: int


@pytest.fixture
async def client(make_app: Callable[..., FastAPI], make_client: Client) -> httpx.AsyncClient:
    app = make_app()

    @app.get("/http/{status}")
    async def http_error(status: int) -> None:
        raise HTTPException(status_code=status, detail="nope", headers={"X-Extra": "1"})

    @app.post("/orders")
    async def order(body: Order) -> Order:
        return body

    @app.get("/sold-out")
    async def sold_out() -> None:
        raise OutOfStockError("sku-1")

    @app.get("/problem")
    async def problem() -> None:
        raise ProblemError(status=402, code="billing.payment_required", title="Pay first")

    @app.get("/crash")
    async def crash() -> None:
        raise KeyError("secret-table-name")

    return await make_client(app)


async def test_protocol_exception_rendered_with_its_members(client: httpx.AsyncClient) -> None:
    response = await client.get("/sold-out", headers={"X-Request-ID": "problem-0001"})
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "3600"
    assert response.json() == {
        "type": "urn:spaps:problem:shop.out_of_stock",
        "title": "Out of stock",
        "status": 409,
        "detail": "sku-1 is sold out",
        "instance": "/sold-out",
        "code": "shop.out_of_stock",
        "request_id": "problem-0001",
        "sku": "sku-1",
    }


async def test_problem_error_class(client: httpx.AsyncClient) -> None:
    response = await client.get("/problem")
    body = response.json()
    assert response.status_code == 402
    assert body["type"] == "urn:spaps:problem:billing.payment_required"
    assert body["title"] == "Pay first"
    assert body["detail"] is None


async def test_http_exception(client: httpx.AsyncClient) -> None:
    response = await client.get("/http/403")
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-extra"] == "1"
    body = response.json()
    assert body["code"] == "ops.http_error"
    assert body["title"] == "Forbidden"
    assert body["detail"] == "nope"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_not_found_and_method_not_allowed(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert missing.json()["code"] == "ops.not_found"
    assert missing.headers["content-type"] == PROBLEM
    wrong_method = await client.delete("/orders")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "ops.method_not_allowed"
    assert wrong_method.headers["allow"] == "POST"


async def test_validation_errors_list_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"sku": "a", "quantity": "many"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ops.validation_failed"
    assert body["errors"] == [
        {
            "field": "body.quantity",
            "message": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]


async def test_unhandled_exception_leaks_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "ops.internal_error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "secret-table-name" not in response.text
    assert "KeyError" not in response.text
    assert "Traceback" not in response.text


def test_is_problem_checks_types() -> None:
    assert is_problem(OutOfStockError("x"))
    bad = Exception()
    bad.status, bad.code, bad.title = "409", "x.y", "t"  # type: ignore[attr-defined]
    assert not is_problem(bad)
    assert not is_problem(ValueError())


@pytest.mark.parametrize("status", [200, 600, "500"])
def test_problem_error_validates_status(status: Any) -> None:
    with pytest.raises(ValueError, match="status"):
        ProblemError(status=status, code="x.y", title="t")


def test_ops_codes_are_unique_and_namespaced() -> None:
    codes = [c.code for c in OPS_ERROR_CODES]
    assert len(codes) == len(set(codes))
    assert all(code.startswith(("ops.", "graphql.")) for code in codes)


def test_registry_refuses_duplicates() -> None:
    registry = ErrorRegistry(OPS_ERROR_CODES)
    registry.register("shop.out_of_stock", status=409, title="Out of stock")
    with pytest.raises(DuplicateErrorCodeError, match=r"shop\.out_of_stock"):
        registry.register("shop.out_of_stock", status=410, title="Gone")
    with pytest.raises(DuplicateErrorCodeError):
        ErrorRegistry([ErrorCode("a.b", 400, "x"), ErrorCode("a.b", 400, "x")])


def test_registry_registers_protocol_exceptions_and_lists_them() -> None:
    registry = ErrorRegistry()
    entry = registry.register_exception(OutOfStockError)
    assert entry == ErrorCode("shop.out_of_stock", 409, "Out of stock", entry.description)
    assert entry.description.startswith("A sibling library's error")
    assert entry.type_uri == "urn:spaps:problem:shop.out_of_stock"
    registry.register("aaa.first", status=400, title="First")
    assert [c.code for c in registry] == ["aaa.first", "shop.out_of_stock"]
    assert "shop.out_of_stock" in registry
    assert len(registry) == 2
    table = registry.to_markdown()
    assert table.splitlines()[2] == "| `aaa.first` | 400 | First |  |"
    with pytest.raises(TypeError):
        registry.register_exception(ValueError)


def test_app_registry_holds_ops_and_app_codes(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(error_codes=[ErrorCode("shop.out_of_stock", 409, "Out of stock")])
    errors = get_ops(app).errors
    assert "ops.internal_error" in errors
    assert errors.get("shop.out_of_stock") is not None
    with pytest.raises(DuplicateErrorCodeError):
        make_app(error_codes=[ErrorCode("ops.not_found", 404, "Mine")])


def test_guide_lists_every_ops_code() -> None:
    guide = Path(__file__).resolve().parents[3] / "docs" / "spaps-ops.md"
    if not guide.exists():
        pytest.skip("not applicable: docs/spaps-ops.md is not part of this checkout")
    table = ErrorRegistry(OPS_ERROR_CODES).to_markdown()
    assert table.strip() in guide.read_text()
