"""OpenAPI: every htma route documents an example of its answer and its errors."""

from __future__ import annotations

from typing import Any

import pytest
from spaps_ops import ProblemError, UnregisteredErrorCodeError, get_ops

# Routes mounted from spaps-auth and spaps-webhooks document themselves.
LIBRARY_ROUTES = ("/v1/webhooks", "/v1/auth/refresh", "/v1/auth/logout", "/v1/auth/sessions")


async def test_every_htma_route_has_examples(client: Any) -> None:
    spec = client.app.openapi()
    schemas = spec["components"]["schemas"]
    checked = 0
    for path, operations in spec["paths"].items():
        if path.startswith(LIBRARY_ROUTES):
            continue
        for method, operation in operations.items():
            ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            schema = ok["content"]["application/json"]["schema"]
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            assert ref, (method, path)
            assert schemas[ref.rsplit("/", 1)[-1]].get("examples"), (method, path)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                name = body["schema"]["$ref"].rsplit("/", 1)[-1]
                assert schemas[name].get("examples"), (method, path, "request")
            checked += 1
    assert checked >= 12


def test_operation_ids_are_the_route_names_and_unique(make_app: Any) -> None:
    spec = make_app().openapi()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    operations = {(path, m): op for path, ops in spec["paths"].items() for m, op in ops.items()}
    assert operations["/v1/panels", "post"]["operationId"] == "submit_panel"
    assert operations["/v1/auth/refresh", "post"]["operationId"] == "refresh"  # from spaps-auth
    assert operations["/v1/auth/login", "post"]["security"] == []  # public, explicitly
    assert operations["/v1/me", "get"]["security"] == [{"bearerAuth": []}]


async def test_outside_production_an_unregistered_problem_code_fails(client: Any) -> None:
    """htma audits every problem answer against its registry (strict outside production):
    an unregistered code raises instead of reaching the client, so its test fails."""
    app = client.app
    assert "htma.not_found" in get_ops(app).errors
    assert "auth.invalid_token" in get_ops(app).errors  # the libraries' codes too
    clinic = await client.clinic("northside")  # every route but the public ones needs a token

    @app.get("/v1/made-up")
    async def made_up() -> None:
        raise ProblemError(status=418, code="htma.made_up", title="Made up")

    with pytest.raises(UnregisteredErrorCodeError, match="made_up"):
        await client.http.get("/v1/made-up", headers=clinic.patient)
