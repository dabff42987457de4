"""Recommendations from ingredient: service token, request id, degradation, breaker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from htma.results.recommendations import IngredientUnavailableError, RecommendationClient
from ingredient_client.models import MineralInfo, Problem, RichestList, RichSource
from spaps_ops import BreakerState, CircuitBreaker


class FakeIngredient:
    """A tiny stand-in for ingredient's ``/richest`` route, recording what it was sent.

    Its answers are built from ingredient's generated client models, so a change in
    ingredient's API (regenerated into ``ingredient_client``) breaks this fake and the
    client code together.
    """

    def __init__(self) -> None:
        self.status = 200
        self.body: Any = None
        self.calls: list[dict[str, str]] = []
        self.app = FastAPI()

        @self.app.get("/v1/minerals/{symbol}/richest")
        async def richest(symbol: str, request: Request, limit: int = 5) -> Any:
            self.calls.append(dict(request.headers))
            if self.body is not None:
                return JSONResponse(self.body, status_code=self.status)
            if self.status == 404:
                problem = Problem(
                    type_="https://errors.spaps.dev/not-found", title="Not found",
                    status=404, code="not_found", detail=f"no mineral {symbol}",
                )  # fmt: skip
                return JSONResponse(problem.to_dict(), status_code=404)
            if self.status != 200:
                return JSONResponse({"detail": "boom"}, status_code=self.status)
            item = RichSource(
                code="A1", name=f"rich in {symbol}", amount=100.0, food_group="x",
                scientific_name=None, source="t",
            )  # fmt: skip
            mineral = MineralInfo(symbol=symbol, name=symbol)
            return RichestList(mineral=mineral, items=[item] * limit).to_dict()


def _client(fake: FakeIngredient, breaker: CircuitBreaker | None = None) -> RecommendationClient:
    return RecommendationClient(
        base_url="http://ingredient",
        token=lambda: "service-token",
        breaker=breaker or CircuitBreaker(name="t", failure_threshold=3, reset_timeout=60,
                                          failure_types=(IngredientUnavailableError,)),
        per_mineral=2,
        transport=httpx.ASGITransport(app=fake.app),
    )  # fmt: skip


async def test_foods_per_mineral_with_token_and_request_id() -> None:
    fake = FakeIngredient()
    result = await _client(fake).for_minerals(["Mg", "Zn"], request_id="req-abcdef12")
    assert result["status"] == "ok"
    assert [f["name"] for f in result["minerals"]["Mg"]] == ["rich in Mg", "rich in Mg"]
    assert set(result["minerals"]) == {"Mg", "Zn"}
    assert {c["authorization"] for c in fake.calls} == {"Bearer service-token"}
    assert {c["x-request-id"] for c in fake.calls} == {"req-abcdef12"}


async def test_foods_carry_the_fields_ingredient_declares() -> None:
    result = await _client(FakeIngredient()).for_minerals(["Fe"])
    assert result["minerals"]["Fe"][0] == {
        "code": "A1", "name": "rich in Fe", "amount": 100.0, "unit": "mg", "per": "100 g"
    }  # fmt: skip


async def test_an_answer_off_contract_degrades() -> None:
    fake = FakeIngredient()
    fake.body = {"mineral": {"symbol": "Mg"}, "foods": []}  # "items" renamed: a breaking change
    breaker = CircuitBreaker(
        name="t", failure_threshold=1, failure_types=(IngredientUnavailableError,)
    )
    result = await _client(fake, breaker).for_minerals(["Mg"])
    assert result == {
        "status": "unavailable", "reason": "ingredient's answer does not match its API: KeyError"
    }  # fmt: skip
    assert breaker.state == BreakerState.OPEN


async def test_nothing_deficient_needs_no_call() -> None:
    fake = FakeIngredient()
    assert await _client(fake).for_minerals([]) == {"status": "ok", "minerals": {}}
    assert fake.calls == []


async def test_ingredient_errors_degrade_and_open_the_circuit() -> None:
    fake = FakeIngredient()
    fake.status = 503
    breaker = CircuitBreaker(
        name="t", failure_threshold=2, reset_timeout=60, failure_types=(IngredientUnavailableError,)
    )
    client = _client(fake, breaker)
    for _ in range(2):
        degraded = await client.for_minerals(["Mg"])
        assert degraded == {"status": "unavailable", "reason": "ingredient answered 503"}
    assert breaker.state == BreakerState.OPEN
    calls = len(fake.calls)
    fast = await client.for_minerals(["Mg"])
    assert fast["status"] == "unavailable"
    assert "circuit open" in fast["reason"]
    assert len(fake.calls) == calls  # the open circuit spares the dead service


async def test_an_unreachable_ingredient_degrades() -> None:
    client = RecommendationClient(
        base_url="http://127.0.0.1:9",
        token=lambda: "t",
        breaker=CircuitBreaker(name="t", failure_types=(IngredientUnavailableError,)),
        timeout=2,
    )
    result = await client.for_minerals(["Mg"])
    assert result["status"] == "unavailable"
    assert "unreachable" in result["reason"]


async def test_client_errors_are_not_outages() -> None:
    fake = FakeIngredient()
    fake.status = 404
    breaker = CircuitBreaker(
        name="t", failure_threshold=1, failure_types=(IngredientUnavailableError,)
    )
    result = await _client(fake, breaker).for_minerals(["Mg"])
    assert result == {"status": "ok", "minerals": {"Mg": []}}
    assert breaker.state == BreakerState.CLOSED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "ftp://x"}, "http"),
        ({"per_mineral": 0}, "per_mineral"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_constructor_validation(kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"base_url": "http://x", "token": lambda: "t",
                               "breaker": CircuitBreaker(name="t"), **kwargs}  # fmt: skip
    with pytest.raises(ValueError, match=message):
        RecommendationClient(**options)
