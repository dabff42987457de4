"""API fuzzing against the OpenAPI document: no 5xx, errors are problem+json, successful
answers carry their schema's required members.

The request generator and loop are shared with the other service (``services/conftest.py``).
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
    seeded_url: str, make_client: Any, identities: list[dict[str, str]], openapi_fuzz: Any
) -> None:
    async with make_client(database_url=seeded_url) as client:
        spec = (await client.get("/openapi.json")).json()
        generated = openapi_fuzz.cases(spec, random.Random(20261123), CASES_PER_OPERATION)
        conformant = await openapi_fuzz.fuzz(client, spec, generated, identities)
    assert len(generated) >= 5 * CASES_PER_OPERATION
    assert conformant > 0
