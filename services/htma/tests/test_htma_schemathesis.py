"""Schemathesis against htma's OpenAPI document: no 5xx, responses conform to the schema.

The app runs in-process over ASGI on a migrated SQLite database (the embedded default)
with a signed-up clinic; each generated case is sent as one of its users (admin,
practitioner, patient) or anonymously, in turn. Every operation gets valid (positive)
and invalid (negative) cases; generation is derandomized, so a run is reproducible.
The number of cases goes to the session summary (``schemathesis_cases``).
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from htma import Settings, create_app
from htma.migrate import MIGRATIONS
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
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
from spaps_auth import PasswordHasher

#: Per operation and generation mode; about 20 s for the whole API on one core.
MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PASSWORD = "correct horse battery staple"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
def htma_schema(tmp_path: Path, fuzz_tally: dict[str, object]) -> schemathesis.BaseSchema:
    """The schema of an htma app with a clinic; its users' headers go to the tally."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'htma.db'}"
    asyncio.run(MIGRATIONS.upgrade(database_url))
    app = create_app(
        Settings(
            database_url=database_url,
            signing_keys_path=tmp_path / "keys.json",
            compute_mode="inline",
            # a closed port: recommendations degrade, as when ingredient is down
            ingredient_url="http://127.0.0.1:9",
        ),
        hasher=FAST_HASHER,
        log_stream=io.StringIO(),
    )
    # starts the lifespan (the schemathesis plugin ends it with the test)
    with asgi.get_client(app) as http:  # type: ignore[arg-type] # FastAPI's scope is a MutableMapping
        signup = http.post(
            "/v1/auth/signup",
            json={"clinic_id": "fuzz", "clinic_name": "Fuzz", "email": "admin@fuzz.example",
                  "password": PASSWORD, "display_name": "Admin"},
        )  # fmt: skip
        assert signup.status_code == 201, signup.text
        admin = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        users = [admin]
        for role in ("practitioner", "patient"):
            created = http.post(
                "/v1/users",
                headers=admin,
                json={"email": f"{role}@fuzz.example", "password": PASSWORD,
                      "display_name": role.title(), "role": role},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            login = http.post(
                "/v1/auth/login", json={"email": f"{role}@fuzz.example", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            users.append({"Authorization": f"Bearer {login.json()['access_token']}"})
    fuzz_tally["identities"] = [*users, {}]
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_htma_openapi_fuzz(
    htma_schema: schemathesis.BaseSchema, fuzz_tally: dict[str, object]
) -> None:
    identities = fuzz_tally["identities"]
    assert isinstance(identities, list)
    failures: dict[str, str] = {}
    count = 0
    with asgi.get_client(htma_schema.app) as http:
        for result in htma_schema.get_all_operations():
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
    assert count >= len(list(htma_schema.get_all_operations())) * 2
