"""Schemathesis against ingredient's OpenAPI document: no 5xx, responses conform to the schema.

The app runs in-process over ASGI on a migrated SQLite database (the embedded default)
holding the seed catalog; each generated case is sent with a pro-plan API key, an
editor's (lab admin's) token, a patient's token or anonymously, in turn. Generation
is derandomized, so a run is reproducible. The number of cases goes to the session
summary (``schemathesis_cases``).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from ingredient import Settings, create_app
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Per operation and generation mode; a few seconds for the whole API on one core.
MAX_EXAMPLES = 50
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Fuzzing runs once, on the embedded default back end."""
    return sqlite_url


@pytest.fixture
def ingredient_schema(
    seeded_url: str, api_key: str, issuer: Any, fuzz_tally: dict[str, object]
) -> schemathesis.BaseSchema:
    """The schema of an ingredient app on the seed catalog; its callers go to the tally."""
    app = create_app(
        Settings(database_url=seeded_url, htma_jwks_url="http://htma/.well-known/jwks.json"),
        jwks_client=issuer.client(),
        log_stream=io.StringIO(),
    )
    fuzz_tally["identities"] = [
        {"X-API-Key": api_key},
        {"Authorization": f"Bearer {issuer.token('lab_admin')}"},
        {"Authorization": f"Bearer {issuer.token('patient')}"},
        {},
    ]
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_ingredient_openapi_fuzz(
    ingredient_schema: schemathesis.BaseSchema, fuzz_tally: dict[str, object]
) -> None:
    identities = fuzz_tally["identities"]
    assert isinstance(identities, list)
    failures: dict[str, str] = {}
    count = 0
    with asgi.get_client(ingredient_schema.app) as http:
        for result in ingredient_schema.get_all_operations():
            assert isinstance(result, Ok), result  # the schema is valid
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=MAX_EXAMPLES,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate],
                )
                def run(case: schemathesis.Case[Any]) -> None:
                    nonlocal count
                    headers = dict(identities[count % len(identities)])
                    count += 1
                    response = case.call(session=http, headers=headers)
                    try:
                        case.validate_response(response, checks=CHECKS, headers=headers)
                    # schemathesis reports a FailureGroup (an exception group) or an assertion
                    except (AssertionError, BaseExceptionGroup) as exc:
                        key = f"{case.operation.label} {response.status_code}"
                        failures.setdefault(key, f"{exc}"[:2000] + "\n" + case.as_curl_command())

                try:
                    run()
                except Unsatisfiable:
                    # nothing to make invalid (an operation without parameters or body)
                    assert mode is GenerationMode.NEGATIVE, operation.label
    fuzz_tally["cases"] = count
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert count >= len(list(ingredient_schema.get_all_operations())) * 2
