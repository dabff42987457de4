"""Schemathesis against htma's OpenAPI document: no 5xx, responses conform to the schema.

The app runs in-process over ASGI on a migrated SQLite database (the embedded default)
with a signed-up clinic; each generated case is sent as one of its users (admin,
practitioner, patient) or anonymously, in turn. Every operation gets valid (positive)
and invalid (negative) cases; generation is derandomized, so a run is reproducible.
The number of cases goes to the session summary (``schemathesis_cases``); the run itself
is shared with the other service (``services/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from htma.migrate import MIGRATIONS

#: Per operation and generation mode; about 20 s for the whole API on one core.
MAX_EXAMPLES = 20
#: Operations that may fail one of schemathesis's checks, and why.
EXEMPT = {
    "POST /v1/auth/invitations/accept positive_data_acceptance": (
        "a well-formed token that was never issued is refused (410): its validity is a "
        "secret held by the server, not something a schema can describe"
    ),
    "POST /v1/auth/password/reset/confirm positive_data_acceptance": (
        "likewise for a password-reset token that was never issued"
    ),
    "POST /v1/auth/signup positive_data_acceptance": (
        "the password policy (its length set per deployment, its common and breached "
        "lists) refuses with 422 auth.weak_password what no static schema can describe"
    ),
}


@pytest.fixture
async def identities(sqlite_url: str, make_client: Any) -> list[dict[str, str]]:
    """The users of a signed-up clinic (admin, practitioner, patient), and anonymous."""
    await MIGRATIONS.upgrade(sqlite_url)
    async with make_client(database_url=sqlite_url) as client:
        clinic = await client.clinic("fuzz")
    return [clinic.admin, clinic.practitioner, clinic.patient, {}]


def test_htma_openapi_fuzz(
    sqlite_url: str,
    identities: list[dict[str, str]],
    make_app: Callable[..., FastAPI],
    schemathesis_fuzz: Callable[..., int],
) -> None:
    # a closed ingredient port (make_app's default): recommendations degrade, as when
    # ingredient is down
    # A key reused with another request is refused (422): each valid case gets its own.
    schemathesis_fuzz(
        make_app(database_url=sqlite_url), identities, MAX_EXAMPLES, EXEMPT,
        single_use=("Idempotency-Key",),
    )  # fmt: skip
