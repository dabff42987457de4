"""spaps_ops.strawberry over HTTP: every error carries a code, a status and the request id;
anything unexpected is masked and logged."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops import ErrorCode, ProblemError

strawberry = pytest.importorskip(
    "strawberry", reason="not applicable: the strawberry extra is not installed"
)
from spaps_ops.strawberry import (  # noqa: E402  # after the extra's skip
    ProblemErrors,
    graphql_router,
    secure_extensions,
)
from strawberry.extensions import SchemaExtension  # noqa: E402
from strawberry.fastapi import BaseContext  # noqa: E402
from strawberry.permission import BasePermission, PermissionExtension  # noqa: E402

MakeClient = Callable[[Any], Awaitable[httpx.AsyncClient]]


class OutOfStockError(Exception):
    """A sibling library's error: the problem protocol, no spaps-ops import."""

    status, code, title = 409, "shop.out_of_stock", "Out of stock"
    extensions: ClassVar[dict[str, str]] = {"sku": "a1"}


class ShopOnly(BasePermission):
    """A denial carrying a code of the app's registry, without a status."""

    message = "shop staff only"
    error_extensions: ClassVar[dict[str, object]] = {"code": "shop.staff_only"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> str:
        return "fine"

    @strawberry.field
    def sold_out(self) -> str:
        raise OutOfStockError("only the title and code should matter")

    @strawberry.field
    def gone(self) -> str:
        raise ProblemError(status=404, code="shop.gone", title="Gone", detail="sku a1 is gone")

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError("database password is hunter2")

    @strawberry.field(extensions=[PermissionExtension(permissions=[ShopOnly()])])
    def staff(self) -> str:
        return "secret"


SHOP_CODES = [
    ErrorCode("shop.out_of_stock", 409, "Out of stock"),
    ErrorCode("shop.gone", 404, "Gone"),
    ErrorCode("shop.staff_only", 403, "Staff only"),
]


@pytest.fixture
def graphql_app(make_app: Callable[..., FastAPI]) -> Callable[..., FastAPI]:
    def factory(*, production: bool = False, **router: Any) -> FastAPI:
        app = make_app(error_codes=SHOP_CODES)
        schema = strawberry.Schema(query=Query, extensions=secure_extensions(production=production))
        app.include_router(graphql_router(schema, production=production, **router))
        return app

    return factory


async def test_metrics_and_access_log_label_the_endpoint_by_its_path(
    make_app: Callable[..., FastAPI], make_client: MakeClient, logs: Any
) -> None:
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    registry = CollectorRegistry()
    app = make_app(error_codes=SHOP_CODES, metrics_registry=registry)
    schema = strawberry.Schema(query=Query, extensions=secure_extensions(production=False))
    app.include_router(graphql_router(schema, production=False))
    client = await make_client(app)
    answer = await post(client, "{ gone }", **{"X-Request-ID": "graphql-route-0001"})
    assert answer.status_code == 200
    labels = {"method": "POST", "route": "/graphql", "status": "2xx"}
    assert registry.get_sample_value("http_requests_total", labels) == 1.0
    [line] = [r for r in logs.records("http_request") if r["request_id"] == "graphql-route-0001"]
    assert line["route"] == "/graphql"


async def post(client: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_problem_error_keeps_its_code_and_gets_the_request_id(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient
) -> None:
    client = await make_client(graphql_app())
    answer = await post(client, "{ gone }", **{"X-Request-ID": "graphql-request-0001"})
    assert answer.status_code == 200  # the operation ran: errors travel in the body
    assert answer.headers["x-request-id"] == "graphql-request-0001"
    [error] = answer.json()["errors"]
    assert error["message"] == "sku a1 is gone"
    assert error["path"] == ["gone"]
    assert error["extensions"] == {
        "code": "shop.gone",
        "status": 404,
        "request_id": "graphql-request-0001",
    }

    fresh = await post(client, "{ soldOut }")  # no incoming id: the middleware's own
    [error] = fresh.json()["errors"]
    assert error["extensions"] == {
        "sku": "a1",  # the exception's own extension members are kept
        "code": "shop.out_of_stock",
        "status": 409,
        "request_id": fresh.headers["x-request-id"],
    }


async def test_unexpected_exception_is_masked_and_logged(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient, logs: Any
) -> None:
    client = await make_client(graphql_app())
    answer = await post(client, "{ ok boom }")
    assert answer.status_code == 200
    assert "hunter2" not in answer.text
    assert "RuntimeError" not in answer.text
    body = answer.json()
    assert body["data"] == {"ok": "fine", "boom": None}
    [error] = body["errors"]
    request_id = answer.headers["x-request-id"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {
        "code": "ops.internal_error",
        "status": 500,
        "request_id": request_id,
    }
    [record] = logs.records("graphql_unhandled_exception")
    assert record["request_id"] == request_id
    assert record["path"] == "boom"
    assert record["level"] == "error"
    logged = json.dumps(record)
    assert "RuntimeError: database password is hunter2" in logged  # the traceback
    assert "Traceback" in logged


async def test_a_code_already_on_the_error_is_kept_with_its_registered_status(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient
) -> None:
    client = await make_client(graphql_app())
    answer = await post(client, "{ staff }")
    [error] = answer.json()["errors"]
    assert error["message"] == "shop staff only"
    assert error["extensions"]["code"] == "shop.staff_only"
    assert error["extensions"]["status"] == 403  # from the app's error registry


async def test_invalid_operation_answers_400_graphql_invalid(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient
) -> None:
    client = await make_client(graphql_app())
    for query in ("{ nope }", "{ ok", "query { ok } query { ok }"):
        answer = await post(client, query)
        assert answer.status_code == 400, query
        assert "data" not in answer.json() or answer.json()["data"] is None
        for error in answer.json()["errors"]:
            assert error["extensions"]["code"] == "graphql.invalid"
            assert error["extensions"]["status"] == 400
            assert error["extensions"]["request_id"] == answer.headers["x-request-id"]


async def test_object_context_with_request_and_response(
    graphql_app: Callable[..., FastAPI], make_client: MakeClient
) -> None:
    async def context() -> BaseContext:
        return BaseContext()  # FastAPI fills .request and .response in

    client = await make_client(graphql_app(context_getter=context))
    assert (await post(client, "{ nope }")).status_code == 400
    answer = await post(client, "{ staff }")
    assert answer.json()["errors"][0]["extensions"]["status"] == 403


async def test_problem_errors_outside_create_app(make_client: MakeClient) -> None:
    app = FastAPI()  # no request-id middleware, no error registry
    schema = strawberry.Schema(query=Query, extensions=[ProblemErrors])
    app.include_router(graphql_router(schema, production=True))
    client = await make_client(app)
    [error] = (await post(client, "{ staff }")).json()["errors"]
    assert error["extensions"] == {"code": "shop.staff_only", "status": 400, "request_id": None}
    [error] = (await post(client, "{ boom }")).json()["errors"]
    assert error["extensions"]["code"] == "ops.internal_error"


class BrokenStore(SchemaExtension):
    """An extension whose dependency fails before execution (a store that is down)."""

    def on_execute(self) -> Iterator[None]:
        raise ConnectionError("redis at 10.0.0.7:6379 refused")
        yield  # pragma: no cover  # a generator hook


async def test_a_failure_before_execution_is_masked_and_answers_500(
    make_app: Callable[..., FastAPI], make_client: MakeClient, logs: Any
) -> None:
    app = make_app()
    schema = strawberry.Schema(
        query=Query, extensions=[*secure_extensions(production=True), BrokenStore]
    )
    app.include_router(graphql_router(schema, production=True))
    client = await make_client(app)
    answer = await post(client, "{ ok }")
    assert answer.status_code == 500
    assert "10.0.0.7" not in answer.text
    [error] = answer.json()["errors"]
    assert error["extensions"] == {
        "code": "ops.internal_error",
        "status": 500,
        "request_id": answer.headers["x-request-id"],
    }
    [record] = logs.records("graphql_unhandled_exception")
    assert "ConnectionError: redis at 10.0.0.7:6379 refused" in json.dumps(record)


class BrokenOperation(SchemaExtension):
    """An extension that fails as the operation starts, before ProblemErrors can see it."""

    def on_operation(self) -> Iterator[None]:
        raise ConnectionError("vault token s.3cr3t expired")
        yield  # pragma: no cover  # a generator hook


async def test_the_router_masks_what_no_extension_saw(make_client: MakeClient) -> None:
    app = FastAPI()
    for path, extensions in (("/bare", []), ("/broken", [BrokenOperation, ProblemErrors])):
        schema = strawberry.Schema(query=Query, extensions=extensions)
        app.include_router(graphql_router(schema, production=True, path=path))
    client = await make_client(app)
    for path in ("/bare", "/broken"):
        answer = await client.post(path, json={"query": "{ boom }"})
        assert "hunter2" not in answer.text
        assert "s.3cr3t" not in answer.text
        [error] = answer.json()["errors"]
        assert error["message"] == "Internal server error"
        assert error["extensions"]["code"] == "ops.internal_error"
    [error] = (await client.post("/bare", json={"query": "{ gone }"})).json()["errors"]
    assert error["extensions"]["code"] == "shop.gone"


def test_the_endpoint_stays_out_of_openapi(graphql_app: Callable[..., FastAPI]) -> None:
    assert not any(path.startswith("/graphql") for path in graphql_app().openapi()["paths"])


def test_graphql_codes_are_registered() -> None:
    from spaps_ops import OPS_ERROR_CODES  # noqa: PLC0415

    codes = {c.code: c.status for c in OPS_ERROR_CODES}
    for code in (
        "graphql.invalid",
        "graphql.too_deep",
        "graphql.too_many_aliases",
        "graphql.too_many_tokens",
        "graphql.introspection_disabled",
    ):
        assert codes[code] == 400
    assert codes["ops.internal_error"] == 500
    assert codes["ops.method_not_allowed"] == 405


def test_secure_extensions_builds_fresh_extensions_per_operation() -> None:
    from graphql.validation import NoSchemaIntrospectionCustomRule  # noqa: PLC0415
    from strawberry.extensions import (  # noqa: PLC0415
        AddValidationRules,
        MaxTokensLimiter,
        ParserCache,
        SchemaExtension,
        ValidationCache,
    )

    def rules_of(extensions: list[SchemaExtension]) -> list[object]:
        found = [e for e in extensions if type(e) is AddValidationRules]
        assert len(found) == 1
        return list(found[0].validation_rules)

    development = [factory() for factory in secure_extensions(production=False)]
    production = secure_extensions(production=True)
    first = [factory() for factory in production]
    second = [factory() for factory in production]
    assert all(isinstance(ext, SchemaExtension) for ext in first)
    assert all(a is not b for a, b in zip(first, second, strict=True))
    kinds = [type(ext) for ext in first]
    assert kinds == [MaxTokensLimiter, ParserCache, AddValidationRules, ValidationCache,
                     ProblemErrors]  # fmt: skip
    # The same rule classes for every operation, so the validation cache finds its verdicts.
    assert rules_of(first) == rules_of(second)
    assert NoSchemaIntrospectionCustomRule in rules_of(first)
    assert NoSchemaIntrospectionCustomRule not in rules_of(development)
    assert len(rules_of(development)) == 2  # depth and aliases
    for bad in (0, -1, True, "10"):
        with pytest.raises(ValueError, match="max_depth"):
            secure_extensions(production=False, max_depth=bad)  # type: ignore[arg-type]


def test_package_root_does_not_import_strawberry() -> None:
    code = (
        "import sys, spaps_ops\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] == 'strawberry' "
        "or m.startswith('spaps_ops._strawberry')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""
