"""document_problems: the OpenAPI schema declares the problem+json answers the stack gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from spaps_ops import document_problems, openapi_problem

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
PROBLEM = "application/problem+json"


class Item(BaseModel):
    name: str


def build(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()

    @app.get("/public/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/items/{item_id}", responses={409: openapi_problem("Edited meanwhile")})
    async def get_item(item_id: int) -> Item:
        return Item(name=str(item_id))

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    document_problems(
        app, public={"/public/ping"}, secured={401: "No credentials", 403: "Not allowed"}
    )
    return app


async def test_schema_declares_problem_answers(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    app = build(make_app)
    spec = app.openapi()
    assert app.openapi() is spec  # completing twice changes nothing
    get_item = spec["paths"]["/items/{item_id}"]["get"]["responses"]
    create = spec["paths"]["/items"]["post"]["responses"]
    ping = spec["paths"]["/public/ping"]["get"]["responses"]

    assert set(get_item) == {"200", "401", "403", "404", "409", "422"}
    assert set(create) == {"200", "400", "401", "403", "404", "422"}
    assert set(ping) == {"200"}  # public and parameterless: nothing to add
    for responses in (get_item, create):
        assert list(responses["422"]["content"]) == [PROBLEM]  # not FastAPI's application/json
        invalid_schema = responses["422"]["content"][PROBLEM]["schema"]
        assert invalid_schema == {"$ref": "#/components/schemas/ValidationProblem"}
        assert list(responses["401"]["content"]) == [PROBLEM]
        assert responses["401"]["content"][PROBLEM]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    # one shared component each, instead of a copy in every entry
    schemas = spec["components"]["schemas"]
    assert "errors" in schemas["ValidationProblem"]["properties"]
    assert schemas["Problem"]["required"] == ["type", "title", "status", "code"]
    # the document's own copy: editing one app's document leaves another app's alone
    schemas["Problem"]["properties"]["shop"] = {"type": "string"}
    other = build(make_app).openapi()["components"]["schemas"]["Problem"]
    assert "shop" not in other["properties"]
    assert get_item["409"]["description"] == "Edited meanwhile"

    # What the schema says is what the app answers.
    client = await make_client(app)
    invalid = await client.post("/items", json={"name": 3.5})
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == PROBLEM
    assert {"type", "title", "status", "code", "errors"} <= set(invalid.json())
    malformed = await client.post(
        "/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422  # FastAPI reports invalid JSON as a validation error
    assert malformed.headers["content-type"] == PROBLEM
