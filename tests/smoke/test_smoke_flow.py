"""The whole flow over HTTP between real processes (uvicorn x2, a Celery worker), and
the faults: htma down while ingredient verifies tokens, ingredient down while htma
produces a result, the webhook receiver failing then recovering."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow
PANEL = {"Ca": 40.0, "Mg": 3.0, "Na": 25.0, "K": 10.0, "P": 16.0, "Zn": 16.0, "Cu": 2.5, "Fe": 2.2}


def _submit(stack: Any, seen: dict[str, Any], request_id: str | None = None) -> str:
    extra = {"X-Request-ID": request_id} if request_id else {}
    response = httpx.post(
        f"{stack.htma_url}/v1/panels",
        headers={**seen["practitioner"], **extra},
        json={"patient_id": seen["patient_id"], "sampled_on": "2026-11-21", "minerals": PANEL},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _result(demo: Any, stack: Any, seen: dict[str, Any], panel_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=stack.htma_url, timeout=10) as client:
        result: dict[str, Any] = demo.wait_result(client, seen["practitioner"], panel_id, 60)
    return result


def test_flow_and_faults_on_the_embedded_defaults(demo: Any, make_stack: Any, sink: Any) -> None:
    stack = make_stack(INGREDIENT_LOG_LEVEL="info")
    stack.start()
    lines: list[str] = []
    seen = demo.walk(stack, sink, say=lines.append)
    assert len(lines) >= 9
    assert seen["result"]["recommendations"]["status"] == "ok"
    assert seen["event"]["data"]["deficient"] == seen["result"]["deficient"] == ["Mg", "Zn"]

    # The request id of the submission reaches ingredient through the job's HTTP call.
    traced = _result(demo, stack, seen, _submit(stack, seen, request_id="smoke-trace-0001"))
    assert traced["recommendations"]["status"] == "ok"
    logged = [
        json.loads(line)
        for line in stack.processes["ingredient"].log.read_text().splitlines()
        if line.startswith("{")
    ]
    traced_calls = [e for e in logged if e.get("request_id") == "smoke-trace-0001"]
    assert traced_calls
    assert all("/richest" in str(e.get("path", e.get("route", ""))) for e in traced_calls)

    # The receiver fails, then recovers: every event still arrives (redelivered).
    sink.fail_next = 2
    panels = [_submit(stack, seen) for _ in range(2)]
    assert sink.wait_for(
        lambda events: set(panels) <= {e["data"]["panel_id"] for e in events}, 60
    ), "a result.ready event was lost while the receiver failed"
    assert sink.fail_next == 0

    # ingredient down while htma produces a result: the result is degraded, not lost.
    stack.stop("ingredient")
    degraded = _result(demo, stack, seen, _submit(stack, seen))
    assert degraded["recommendations"]["status"] == "unavailable"
    assert degraded["analysis"]["ratios"]

    # htma down while ingredient verifies tokens: the cached JWKS keeps working.
    stack.start(("ingredient",))
    token = seen["practitioner"]
    food = f"{stack.ingredient_url}/v1/ingredients/A001"
    assert httpx.get(food, headers=token).status_code == 200
    stack.stop("htma")
    for _ in range(3):
        assert httpx.get(food, headers=token).status_code == 200
    forged = {"Authorization": token["Authorization"][:-4] + "AAAA"}
    assert httpx.get(food, headers=forged).status_code == 401


@pytest.mark.postgres
@pytest.mark.redis
def test_flow_on_postgres_and_redis(  # noqa: PLR0917 -- one fixture per server
    demo: Any,
    make_stack: Any,
    sink: Any,
    postgres_url: str,
    second_postgres_url: str,
    redis_url: str,
    unique_name: str,
) -> None:
    stack = make_stack(
        HTMA_DATABASE_URL=postgres_url,
        INGREDIENT_DATABASE_URL=second_postgres_url,
        HTMA_BROKER_URL=redis_url,
        INGREDIENT_REDIS_URL=redis_url,
        HTMA_REDIS_URL=redis_url,
    )
    stack.start()
    seen = demo.walk(stack, sink, say=lambda _line: None, clinic=unique_name.replace("_", "-"))
    assert seen["result"]["recommendations"]["status"] == "ok"
