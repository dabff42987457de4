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
    schemathesis_fuzz(make_app(database_url=seeded_url), identities, MAX_EXAMPLES)
