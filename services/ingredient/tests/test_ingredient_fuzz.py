"""API fuzzing against the OpenAPI document: no 5xx, errors are problem+json, successful
answers carry their schema's required members.

The request generator is shared with the other service (``services/conftest.py``).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

CASES_PER_OPERATION = 80


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Fuzzing runs once, on the embedded default back end."""
    return sqlite_url


async def test_no_5xx_and_problem_json_everywhere(
    seeded_url: str, make_client: Any, api_key: str, issuer: Any, openapi_fuzz: Any
) -> None:
    rng = random.Random(20261123)
    identities = [
        {"X-API-Key": api_key},
        {"Authorization": f"Bearer {issuer.token('lab_admin')}"},
        {"Authorization": f"Bearer {issuer.token('patient')}"},
        {},
    ]
    async with make_client(database_url=seeded_url) as client:
        spec = (await client.get("/openapi.json")).json()
        generated = openapi_fuzz.cases(spec, rng, CASES_PER_OPERATION)
        failures = []
        conformant = 0
        for index, (method, url, options, declared) in enumerate(generated):
            headers = identities[index % len(identities)]
            response = await client.request(method, url, headers=headers, **options)
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
    assert len(generated) >= 5 * CASES_PER_OPERATION
    assert conformant > 0
    paths = len(spec["paths"])
    print(f"fuzzed {len(generated)} requests over {paths} paths, {conformant} 2xx checked")
