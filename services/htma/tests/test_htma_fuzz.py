"""API fuzzing against the OpenAPI document: no 5xx, errors are problem+json, successful
answers carry their schema's required members.

The request generator and loop are shared with the other service (``services/conftest.py``).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from htma.migrate import MIGRATIONS

CASES_PER_OPERATION = 30
#: Webhook routes check their signature headers first: send some, so fuzzing goes past them.
WEBHOOK_HEADERS = {"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,x"}


@pytest.fixture
async def client(sqlite_url: str, make_client: Any) -> AsyncIterator[Any]:
    """Fuzzing runs once, on the embedded default back end."""
    await MIGRATIONS.upgrade(sqlite_url)
    async with make_client(database_url=sqlite_url) as c:
        yield c


async def test_no_5xx_and_problem_json_everywhere(client: Any, openapi_fuzz: Any) -> None:
    clinic = await client.clinic("fuzzclinic")
    spec = client.app.openapi()
    generated = openapi_fuzz.cases(spec, random.Random(20261123), CASES_PER_OPERATION)
    conformant = await openapi_fuzz.fuzz(
        client.http,
        spec,
        generated,
        [clinic.admin, clinic.practitioner, clinic.patient, {}],
        extra_headers=lambda url: WEBHOOK_HEADERS if "/hooks/" in url else {},
    )
    assert len(generated) >= 20 * CASES_PER_OPERATION
    assert conformant > 0
