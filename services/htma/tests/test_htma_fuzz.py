"""API fuzzing against the OpenAPI document: no 5xx, errors are problem+json, successful
answers carry their schema's required members.

The request generator is shared with the other service (``services/conftest.py``).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from htma.migrate import MIGRATIONS

CASES_PER_OPERATION = 30


@pytest.fixture
async def client(sqlite_url: str, make_client: Any) -> AsyncIterator[Any]:
    """Fuzzing runs once, on the embedded default back end."""
    await MIGRATIONS.upgrade(sqlite_url)
    async with make_client(database_url=sqlite_url) as c:
        yield c


async def test_no_5xx_and_problem_json_everywhere(client: Any, openapi_fuzz: Any) -> None:
    clinic = await client.clinic("fuzzclinic")
    spec = client.app.openapi()
    rng = random.Random(20261123)
    generated = openapi_fuzz.cases(spec, rng, CASES_PER_OPERATION)
    identities = [clinic.admin, clinic.practitioner, clinic.patient, {}]
    failures = []
    conformant = 0
    for index, (method, url, options, declared) in enumerate(generated):
        headers = identities[index % len(identities)]
        if "/hooks/" in url:
            headers = {
                **headers,
                "webhook-id": "msg_x",
                "webhook-timestamp": "1",
                "webhook-signature": "v1,x",
            }
        response = await client.http.request(method, url, headers=headers, **options)
        if response.status_code >= 500:
            failures.append((method, url, options, response.status_code, response.text[:200]))
        elif response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (method, url)
        elif response.content and str(response.status_code) in declared:
            content = declared[str(response.status_code)].get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                assert openapi_fuzz.conforms(response.json(), schema, spec), (
                    method,
                    url,
                    response.text[:200],
                )
                conformant += 1
    assert failures == [], failures[:5]
    assert len(generated) >= 20 * CASES_PER_OPERATION
    assert conformant > 0
    paths = len(spec["paths"])
    print(f"fuzzed {len(generated)} requests over {paths} paths, {conformant} 2xx checked")
