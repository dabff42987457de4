"""The OpenAPI a client builds on: operation ids, security, descriptions and examples,
problem entries with one example body per registered code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from spaps_ops import ErrorCode, document_problems, error_codes_of, problem_responses

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
PROBLEM = "application/problem+json"


class ShopError(Exception):
    """Root of the example shop's errors (abstract: not registered)."""

    status = 500
    code = "shop.error"
    title = "Shop error"


class OutOfStockError(ShopError):
    """The item sold out; try another."""

    status = 409
    code = "shop.out_of_stock"
    title = "Out of stock"


class SoldOutError(OutOfStockError):
    """Repeats its parent's code: the same registry entry."""


class UnknownItemError(ShopError):
    """No such item."""

    status = 404
    code = "shop.unknown_item"
    title = "Unknown item"


class CouponError(ShopError):
    """A 400 of the shop's own (on its coupon route): not an answer of every body."""

    status = 400
    code = "shop.bad_coupon"
    title = "Bad coupon"


class NotAnHttpError(ShopError):
    """A CLI-only error without an HTTP status of its own is skipped."""

    status = 0
    code = "shop.cli"


class Item(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "teapot"}]})

    name: str


class Receipt(BaseModel):
    number: int


def test_error_codes_of_lists_each_declared_code_once() -> None:
    codes = error_codes_of(ShopError)
    assert [(c.code, c.status, c.title) for c in codes] == [  # by code
        ("shop.bad_coupon", 400, "Bad coupon"),
        ("shop.out_of_stock", 409, "Out of stock"),
        ("shop.unknown_item", 404, "Unknown item"),
    ]
    assert codes[1].description == "The item sold out; try another."


def test_problem_responses_group_codes_by_status_with_example_bodies() -> None:
    gone = ErrorCode("shop.discontinued", 404, "Discontinued", "No longer sold.")
    responses = problem_responses(
        UnknownItemError, gone, OutOfStockError, descriptions={409: "Sold out meanwhile"}
    )
    assert list(responses) == [404, 409]
    assert responses[404]["description"] == "Unknown item; Discontinued"
    assert responses[409]["description"] == "Sold out meanwhile"
    examples = responses[404]["content"][PROBLEM]["examples"]
    assert list(examples) == ["shop.unknown_item", "shop.discontinued"]
    body = examples["shop.discontinued"]["value"]
    assert body["type"] == "urn:spaps:problem:shop.discontinued"
    assert (body["status"], body["code"], body["title"]) == (
        404,
        "shop.discontinued",
        "Discontinued",
    )


def build(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app(error_codes=error_codes_of(ShopError))

    @app.get("/public/items")
    async def list_items() -> list[Item]:
        """Every item on sale."""
        return [Item(name="teapot")]

    @app.post("/items/{item_id}/buy", responses=problem_responses(OutOfStockError))
    async def buy_item(item_id: int, item: Item) -> Receipt:
        return Receipt(number=item_id)

    @app.get("/receipts/{number}", operation_id="fetch_receipt")
    async def get_receipt(number: int) -> Receipt:
        """One receipt."""
        return Receipt(number=number)

    document_problems(
        app,
        public={"/public/items"},
        secured={401: "No credentials"},
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer"}},
        security=[{"bearerAuth": []}],
        operation_security={"fetch_receipt": [{"bearerAuth": []}, {"apiKey": []}]},
        descriptions={"buy_item": "Buy one item.", "list_items": "never used: has a docstring"},
        examples={"Receipt": {"number": 7}},
    )
    return app


def test_operations_are_complete_for_clients(make_app: Callable[..., FastAPI]) -> None:
    spec = build(make_app).openapi()
    listing = spec["paths"]["/public/items"]["get"]
    buy = spec["paths"]["/items/{item_id}/buy"]["post"]
    receipt = spec["paths"]["/receipts/{number}"]["get"]
    # operationId: the route's name (stable when the path changes), or the one given.
    assert [listing["operationId"], buy["operationId"], receipt["operationId"]] == [
        "list_items", "buy_item", "fetch_receipt"]  # fmt: skip
    assert spec["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    assert listing["security"] == []  # public: explicitly no credentials
    assert buy["security"] == [{"bearerAuth": []}]
    assert receipt["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert listing["description"] == "Every item on sale."
    assert buy["description"] == "Buy one item."
    # JSON examples: the schema's own, an array of it, or the one given by schema name.
    assert listing["responses"]["200"]["content"]["application/json"]["example"] == [
        {"name": "teapot"}
    ]
    assert buy["requestBody"]["content"]["application/json"]["example"] == {"name": "teapot"}
    assert buy["responses"]["200"]["content"]["application/json"]["example"] == {"number": 7}
    # Problem entries: the route's codes; the stack's get every registered code of the status.
    conflict = buy["responses"]["409"]["content"][PROBLEM]["examples"]
    assert list(conflict) == ["shop.out_of_stock"]
    missing = buy["responses"]["404"]["content"][PROBLEM]["examples"]
    assert set(missing) == {"ops.not_found", "shop.unknown_item"}
    assert missing["shop.unknown_item"]["value"]["instance"] == "/items/{item_id}/buy"
    # ...except the stack's 400, which names what it answers for an unreadable body only
    # (not the registry's other 400s, which this route never gives).
    malformed = buy["responses"]["400"]["content"][PROBLEM]["examples"]
    assert list(malformed) == ["ops.bad_request"]
    invalid = buy["responses"]["422"]["content"][PROBLEM]
    assert "errors" in invalid["schema"]["properties"]
    assert list(invalid["examples"]) == ["ops.validation_failed"]
    # FastAPI's own validation-error schemas are gone: no 422 refers to them any more.
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


async def test_the_examples_match_what_the_app_answers(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    app = build(make_app)

    @app.get("/stock/{item_id}", responses=problem_responses(OutOfStockError))
    async def stock(item_id: int) -> Item:
        raise OutOfStockError

    document = app.openapi()
    example = document["paths"]["/stock/{item_id}"]["get"]["responses"]["409"]["content"][PROBLEM]
    documented = example["examples"]["shop.out_of_stock"]["value"]
    client = await make_client(app)
    answer = await client.get("/stock/3")
    assert answer.status_code == documented["status"] == 409
    body = answer.json()
    assert {k: body[k] for k in ("type", "title", "status", "code")} == {
        k: documented[k] for k in ("type", "title", "status", "code")
    }
