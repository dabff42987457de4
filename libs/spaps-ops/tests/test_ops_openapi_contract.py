"""The OpenAPI a client builds on: operation ids, security, descriptions and examples,
problem entries with one example body per registered code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from spaps_ops import (
    ErrorCode,
    document_problems,
    error_codes_of,
    merge_problem_entry,
    openapi_problem,
    problem_responses,
    share_problem_schemas,
)

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


class NoSessionError(ShopError):
    """No live session: sign in again."""

    status = 401
    code = "shop.no_session"
    title = "No session"


class BadSignatureError(ShopError):
    """A 401 of the shop's webhook receiver only: not an answer of its bearer routes."""

    status = 401
    code = "shop.bad_signature"
    title = "Bad signature"


class NotYoursError(ShopError):
    """Another customer's resource."""

    status = 403
    code = "shop.not_yours"
    title = "Not yours"


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
        ("shop.bad_signature", 401, "Bad signature"),
        ("shop.no_session", 401, "No session"),
        ("shop.not_yours", 403, "Not yours"),
        ("shop.out_of_stock", 409, "Out of stock"),
        ("shop.unknown_item", 404, "Unknown item"),
    ]
    assert codes[4].description == "The item sold out; try another."


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
    assert invalid["schema"] == {"$ref": "#/components/schemas/ValidationProblem"}
    assert "errors" in spec["components"]["schemas"]["ValidationProblem"]["properties"]
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


def test_secured_entries_and_operation_errors_name_only_what_the_operation_answers(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app(error_codes=error_codes_of(ShopError))

    @app.get("/carts/{cart_id}")
    async def get_cart(cart_id: int) -> Item:
        return Item(name="teapot")

    @app.get("/receipts/{number}")
    async def get_receipt(number: int) -> Receipt:
        return Receipt(number=number)

    @app.post("/hooks", responses={401: openapi_problem("Unsigned hook", BadSignatureError)})
    async def receive_hook() -> None:
        return None

    @app.delete("/carts/{cart_id}/coupon")
    async def drop_coupon(cart_id: int) -> None:
        return None

    document_problems(
        app,
        secured={401: openapi_problem("Sign in again", NoSessionError), 403: "Not yours"},
        operation_errors={"get_cart": [UnknownItemError, OutOfStockError], "drop_coupon": []},
    )
    spec = app.openapi()

    def examples(path: str, status: str) -> list[str]:
        entry = spec["paths"][path]["get"]["responses"][status]  # a GET's entry
        return list(entry["content"][PROBLEM]["examples"])

    for path in ("/carts/{cart_id}", "/receipts/{number}"):
        # the entry as given: its description and its one code, not shop.bad_signature
        assert spec["paths"][path]["get"]["responses"]["401"]["description"] == "Sign in again"
        assert examples(path, "401") == ["shop.no_session"]
    # the route's own 401 is kept, and the stack's is merged into it rather than hidden
    hook = spec["paths"]["/hooks"]["post"]["responses"]["401"]
    assert hook["description"] == "Unsigned hook; or sign in again"
    assert list(hook["content"][PROBLEM]["examples"]) == ["shop.bad_signature", "shop.no_session"]
    # examples built without their route show the operation's path as their instance
    for path, method in (("/hooks", "post"), ("/carts/{cart_id}", "get")):
        for example in spec["paths"][path][method]["responses"]["401"]["content"][PROBLEM][
            "examples"
        ].values():
            assert example["value"]["instance"] == path
    # a listed operation: its errors merged in by status, and no 404 but its own
    assert examples("/carts/{cart_id}", "404") == ["shop.unknown_item"]
    assert examples("/carts/{cart_id}", "409") == ["shop.out_of_stock"]
    assert spec["paths"]["/carts/{cart_id}"]["get"]["responses"]["404"]["description"] == (
        "Unknown item"
    )
    # one naming no 404 error gets no 404 for its path parameter (it answers none)
    assert "404" not in spec["paths"]["/carts/{cart_id}/coupon"]["delete"]["responses"]
    # an operation not listed keeps the registry's codes of the status
    assert set(examples("/receipts/{number}", "404")) == {"ops.not_found", "shop.unknown_item"}
    # entries are copies: completing one operation's entry leaves the other's alone
    carts = spec["paths"]["/carts/{cart_id}"]["get"]["responses"]["401"]
    receipts = spec["paths"]["/receipts/{number}"]["get"]["responses"]["401"]
    assert carts["description"] == receipts["description"]
    assert carts is not receipts  # each holds its own path as the examples' instance
    # a plain description still documents every registered code of the status; a listed
    # operation naming no error of that status gets no example rather than a wrong one
    assert examples("/receipts/{number}", "403") == ["shop.not_yours"]
    cart_403 = spec["paths"]["/carts/{cart_id}"]["get"]["responses"]["403"]
    assert cart_403["description"] == "Not yours"
    assert "examples" not in cart_403["content"][PROBLEM]


class Problem(BaseModel):
    """The shop's own idea of a problem: a customer complaint."""

    complaint: str


def test_an_apps_own_schema_named_problem_is_left_be(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()

    @app.post("/complaints/{item_id}")
    async def complain(item_id: int, problem: Problem) -> Problem:
        return problem

    document_problems(app, secured={401: "No credentials"})
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) == {"complaint"}
    responses = spec["paths"]["/complaints/{item_id}"]["post"]["responses"]
    # problem entries keep their schema inline rather than refer to the wrong one
    assert "code" in responses["401"]["content"][PROBLEM]["schema"]["properties"]
    assert responses["422"]["content"][PROBLEM]["schema"] == {
        "$ref": "#/components/schemas/ValidationProblem"
    }


def test_a_layer_documenting_after_document_problems_merges_and_shares(
    make_app: Callable[..., FastAPI],
) -> None:
    app = build(make_app)
    spec = app.openapi()
    buy = spec["paths"]["/items/{item_id}/buy"]["post"]["responses"]
    # a middleware's 409 and 429, documented after the stack's completion
    merge_problem_entry(buy, "409", openapi_problem("Busy", NoSessionError))
    merge_problem_entry(buy, "429", openapi_problem("Slow down", NotYoursError))
    assert buy["409"]["description"] == "Out of stock; or busy"
    assert list(buy["409"]["content"][PROBLEM]["examples"]) == [
        "shop.out_of_stock", "shop.no_session"]  # fmt: skip
    assert buy["409"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "properties" in buy["429"]["content"][PROBLEM]["schema"]  # new: inline until...
    share_problem_schemas(spec)
    assert buy["429"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
