"""OpenAPI: every htma route documents an example of its answer and its errors."""

from __future__ import annotations

import time
from typing import Any

import pytest
from spaps_auth import TokenIssuer
from spaps_ops import ProblemError, UnregisteredErrorCodeError, get_ops

# Routes mounted from spaps-auth and spaps-webhooks document themselves.
LIBRARY_ROUTES = ("/v1/webhooks", "/v1/auth/refresh", "/v1/auth/logout", "/v1/auth/sessions")
PROBLEM = "application/problem+json"
SHARED = ("#/components/schemas/Problem", "#/components/schemas/ValidationProblem")


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


def _codes(spec: dict[str, Any], path: str, method: str, status: str) -> set[str]:
    entry = spec["paths"][path][method]["responses"][status]
    return set(entry["content"][PROBLEM]["examples"])


async def test_a_bearer_routes_documented_401s_are_the_ones_it_answers(client: Any) -> None:
    """No token, a malformed one, an expired one, one whose session ended: each answer's
    code is documented on the route, and nothing else is (no webhook-signature or
    magic-link codes on a bearer route)."""
    spec = client.app.openapi()
    clinic = await client.clinic("northside")
    issuer = client.app.state.htma.auth.issuer
    an_hour_ago = TokenIssuer(
        keys=issuer.keys, issuer=issuer.issuer, audience=issuer.audience,
        clock=lambda: time.time() - 3600,
    )  # fmt: skip
    expired = an_hour_ago.issue("u-1", roles=["practitioner"], extra={"clinic": clinic.id})
    ended = await client.bearer(f"practitioner@{clinic.id}.example")
    assert (await client.http.post("/v1/auth/logout", headers=ended)).status_code == 204
    answered = set()
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {expired}"},
        ended,
    ):
        refused = await client.http.get("/v1/panels", headers=headers)
        assert refused.status_code == 401, refused.text
        answered.add(refused.json()["code"])
    assert answered == _codes(spec, "/v1/panels", "get", "401") == {
        "auth.unauthenticated", "auth.invalid_token", "auth.token_expired", "auth.token_revoked"
    }  # fmt: skip
    # a route's own 401 keeps its code beside the stack's
    assert _codes(spec, "/v1/auth/password", "post", "401") == answered | {
        "auth.invalid_credentials"
    }


async def test_library_routes_document_what_they_answer(client: Any) -> None:
    spec = client.app.openapi()
    clinic = await client.clinic("northside")
    # spaps-webhooks' routes: the 404 a missing endpoint gets, not every 404 code
    missing = await client.http.get("/v1/webhooks/endpoints/nope", headers=clinic.admin)
    assert missing.status_code == 404
    documented = _codes(spec, "/v1/webhooks/endpoints/{endpoint_id}", "get", "404")
    assert documented == {missing.json()["code"]} == {"webhooks.endpoint_not_found"}
    assert "404" not in spec["paths"]["/v1/webhooks/endpoints"]["get"]["responses"]
    # the refresh exchange needs no bearer token: public, with the refresh token's 401s
    refresh = spec["paths"]["/v1/auth/refresh"]["post"]
    assert refresh["security"] == []
    assert "403" not in refresh["responses"]
    unknown = await client.http.post("/v1/auth/refresh", json={"refresh_token": "x" * 40})
    assert unknown.status_code == 401
    assert unknown.json()["code"] in _codes(spec, "/v1/auth/refresh", "post", "401") == {
        "auth.invalid_token", "auth.token_expired", "auth.token_revoked",
        "auth.refresh_token_reused",
    }  # fmt: skip
    # and every problem entry of every operation names the codes it may carry
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, entry in operation["responses"].items():
                media = entry.get("content", {}).get(PROBLEM)
                if media is not None:
                    assert media.get("examples"), (method, path, status)
                    # one shared problem schema: one type in a generated client
                    assert media["schema"]["$ref"] in SHARED, (method, path, status)
