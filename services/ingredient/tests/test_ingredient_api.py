"""The catalog read API over a seeded database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

PROBLEM = "application/problem+json"


async def test_detail_has_units_and_the_seed_values(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/ingredients/A001")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Amaranth seed, black"
    assert body["nutrients"]["energy_kj"] == 1490
    minerals = {m["symbol"]: m for m in body["minerals"]}
    # IFCT gives 0.181 g/100 g calcium: served as 181 mg per 100 g.
    assert minerals["Ca"] == {
        "symbol": "Ca",
        "name": "calcium",
        "amount": 181.0,
        "unit": "mg",
        "per": "100 g",
    }
    assert len(minerals) == 12


async def test_unknown_code_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/ingredients/NOPE")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "ingredient.not_found"
    assert response.json()["type"] == "urn:spaps:problem:ingredient.not_found"


async def test_list_is_alphabetical_and_paginated(client: httpx.AsyncClient) -> None:
    first = (await client.get("/v1/ingredients", params={"limit": 5})).json()
    second = (await client.get("/v1/ingredients", params={"limit": 5, "offset": 5})).json()
    both = (await client.get("/v1/ingredients", params={"limit": 10})).json()
    assert first["total"] == 542
    assert [i["code"] for i in first["items"] + second["items"]] == [
        i["code"] for i in both["items"]
    ]
    names = [i["name"] for i in both["items"]]
    assert names == sorted(names)


async def test_list_filters_by_food_group(client: httpx.AsyncClient) -> None:
    body = (
        await client.get("/v1/ingredients", params={"food_group": "Marine Mollusks", "limit": 100})
    ).json()
    assert body["total"] == len(body["items"]) > 0
    assert {i["food_group"] for i in body["items"]} == {"Marine Mollusks"}


async def test_search_ranks_name_matches_first(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/ingredients", params={"q": "spinach"})).json()
    assert body["total"] >= 1
    assert "spinach" in body["items"][0]["name"].lower()
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)


async def test_search_matches_prefixes_and_all_words(client: httpx.AsyncClient) -> None:
    prefix = (await client.get("/v1/ingredients", params={"q": "spina"})).json()
    assert any("Spinach" in i["name"] for i in prefix["items"])
    both = (await client.get("/v1/ingredients", params={"q": "amaranth black", "limit": 50})).json()
    assert both["total"] >= 1
    for item in both["items"]:
        assert "amaranth" in (item["name"] + " " + (item["scientific_name"] or "")).lower()


async def test_search_pages_do_not_overlap(client: httpx.AsyncClient) -> None:
    whole = (await client.get("/v1/ingredients", params={"q": "seed", "limit": 40})).json()
    assert whole["total"] > 10
    pages = []
    for offset in range(0, 10, 5):
        page = await client.get(
            "/v1/ingredients", params={"q": "seed", "limit": 5, "offset": offset}
        )
        pages += [i["code"] for i in page.json()["items"]]
    assert pages == [i["code"] for i in whole["items"][:10]]


async def test_search_without_words_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/ingredients", params={"q": "  *** "})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "ingredient.invalid_query"


async def test_search_with_no_match_is_empty(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/ingredients", params={"q": "xyzzyplugh"})).json()
    assert body == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_richest_in_calcium_is_sorted_descending(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/minerals/Ca/richest", params={"limit": 10})).json()
    assert body["mineral"]["symbol"] == "Ca"
    amounts = [i["amount"] for i in body["items"]]
    assert len(amounts) == 10
    assert amounts == sorted(amounts, reverse=True)
    # IFCT's highest calcium value is 1.664 g/100 g.
    assert amounts[0] == pytest.approx(1664.0)
    by_name = (await client.get("/v1/minerals/calcium/richest", params={"limit": 10})).json()
    assert by_name == body


async def test_richest_respects_food_group(client: httpx.AsyncClient) -> None:
    body = (
        await client.get("/v1/minerals/Zn/richest", params={"food_group": "Fruits", "limit": 5})
    ).json()
    assert {i["food_group"] for i in body["items"]} == {"Fruits"}


async def test_unknown_mineral_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/minerals/unobtainium/richest")
    assert response.status_code == 404
    assert response.json()["code"] == "ingredient.unknown_mineral"


async def test_minerals_and_attribution(client: httpx.AsyncClient) -> None:
    minerals = (await client.get("/v1/minerals")).json()
    assert [m["symbol"] for m in minerals][:3] == ["Ca", "Mg", "Na"]
    assert {m["unit"] for m in minerals} == {"mg"}
    attribution = (await client.get("/v1/attribution")).json()
    assert "IFCT 2017" in attribution["source"]
    assert attribution["licence"] == "MIT"
    assert "Permission is hereby granted" in attribution["licence_text"]


async def test_page_size_is_capped(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/ingredients", params={"limit": 101})
    assert response.status_code == 400
    assert response.json()["code"] == "ingredient.invalid_query"


async def test_invalid_parameters_are_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/ingredients", params={"offset": -1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "ops.validation_failed"
    assert response.json()["errors"][0]["field"] == "query.offset"


async def test_health_probes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.json() == {"status": "ok", "checks": ["database", "migrations"]}


async def test_readiness_fails_while_migrations_are_pending(
    database_url: str, make_client: ClientFactory
) -> None:
    async with make_client(database_url=database_url) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failing_checks"] == ["migrations"]


async def test_request_ids_and_metrics(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/minerals", headers={"X-Request-ID": "req-12345"})
    assert response.headers["x-request-id"] == "req-12345"
    metrics = (await client.get("/metrics")).text
    assert 'route="/v1/minerals"' in metrics
    # spaps-jobs counts on the global registry; /metrics serves it too, each name once.
    assert "spaps_jobs_outbox_" in metrics
    names = [line.split()[2] for line in metrics.splitlines() if line.startswith("# TYPE ")]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("query", ["rice:*", "x & y | !z", "don't", "(crab)", "Kumbh'", "über"])
async def test_search_syntax_characters_are_harmless(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("/v1/ingredients", params={"q": query})
    assert response.status_code == 200
    assert response.json()["total"] >= 0


async def test_openapi_documents_examples_for_every_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        if path.startswith("/health"):
            continue
        for operation in operations.values():
            content = operation["responses"]["200"]["content"]["application/json"]["schema"]
            ref = content.get("$ref") or content.get("items", {}).get("$ref")
            assert ref, path
            assert components[ref.rsplit("/", 1)[-1]].get("examples"), path
