"""Schemathesis against ingredient's OpenAPI document: no 5xx, responses conform to the schema.

The app runs in-process over ASGI on a migrated SQLite database (the embedded default)
holding the seed catalog; each generated case is sent with a pro-plan API key, an
editor's (lab admin's) token, a patient's token or anonymously, in turn. Generation
is derandomized, so a run is reproducible. The number of cases goes to the session
summary (``schemathesis_cases``); the run itself is shared with the other service
(``services/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI

#: Per operation and generation mode; a few seconds for the whole API on one core.
MAX_EXAMPLES = 50
#: Operations that may fail one of schemathesis's checks, and why.
EXEMPT = {
    f"GET {path} positive_data_acceptance": (
        "the page-size maximum is a setting (INGREDIENT_PAGE_SIZE_MAX): a larger limit is "
        "refused with 400 ingredient.invalid_query, which the operation documents"
    )
    for path in ("/v1/ingredients", "/v1/minerals/{mineral}/richest")
}
#: The fuzzer is one client sending thousands of bad credentials: its failed API keys
#: would spend the per-address budget (429, tested on its own) before the auth checks ran.
FUZZ_FAILURE_LIMIT = "1000000/minute"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Fuzzing runs once, on the embedded default back end."""
    return sqlite_url


def test_ingredient_openapi_fuzz(
    seeded_url: str,
    identities: list[dict[str, str]],
    make_app: Callable[..., FastAPI],
    schemathesis_fuzz: Callable[..., int],
) -> None:
    app = make_app(database_url=seeded_url, api_key_failure_limit=FUZZ_FAILURE_LIMIT)
    schemathesis_fuzz(app, identities, MAX_EXAMPLES, EXEMPT)
