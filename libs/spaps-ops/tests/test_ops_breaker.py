"""Circuit breaker: closed -> open -> half-open -> closed, with an injected clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from spaps_ops import BreakerState, CircuitBreaker, CircuitOpenError, is_problem

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Flaky:
    def __init__(self) -> None:
        self.fail = True
        self.calls = 0

    async def __call__(self, value: int) -> int:
        self.calls += 1
        if self.fail:
            raise ConnectionError("down")
        return value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transitions() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def breaker(clock: FakeClock, transitions: list[tuple[str, str]]) -> CircuitBreaker:
    def listener(name: str, old: BreakerState, new: BreakerState) -> None:
        transitions.append((old.value, new.value))

    return CircuitBreaker(
        name="ingredient",
        failure_threshold=3,
        reset_timeout=10,
        clock=clock,
        on_state_change=listener,
    )


async def test_full_cycle(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[tuple[str, str]]
) -> None:
    flaky = Flaky()
    for _ in range(3):
        with pytest.raises(ConnectionError):
            await breaker.call(flaky, 1)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError) as caught:
        await breaker.call(flaky, 1)
    assert flaky.calls == 3  # not called while open
    assert caught.value.status == 503
    assert caught.value.headers == {"Retry-After": "10"}
    assert is_problem(caught.value)
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(ConnectionError):  # failed trial re-opens
        await breaker.call(flaky, 1)
    assert breaker.state is BreakerState.OPEN
    clock.now += 10
    flaky.fail = False
    assert await breaker.call(flaky, 7) == 7
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 0
    assert transitions == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


async def test_success_resets_consecutive_failures(breaker: CircuitBreaker) -> None:
    flaky = Flaky()
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await breaker.call(flaky, 1)
    flaky.fail = False
    await breaker.call(flaky, 1)
    flaky.fail = True
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await breaker.call(flaky, 1)
    assert breaker.state is BreakerState.CLOSED


async def test_half_open_limits_trial_calls(clock: FakeClock) -> None:
    outcomes: list[str] = []
    breaker = CircuitBreaker(
        name="x",
        failure_threshold=1,
        reset_timeout=5,
        clock=clock,
        on_call=lambda name, outcome: outcomes.append(outcome),
    )
    with pytest.raises(ConnectionError):
        async with breaker:
            raise ConnectionError
    clock.now += 5
    async with breaker:  # the one trial slot is taken while this block runs
        with pytest.raises(CircuitOpenError):
            async with breaker:
                pass
    assert breaker.state is BreakerState.CLOSED
    assert outcomes == ["failure", "rejected", "success"]


async def test_unlisted_exceptions_do_not_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(
        name="x", failure_threshold=1, clock=clock, failure_types=(ConnectionError,)
    )
    with pytest.raises(ValueError, match="bad input"):
        async with breaker:
            raise ValueError("bad input")
    assert breaker.state is BreakerState.CLOSED
    with pytest.raises(ConnectionError):
        async with breaker:
            raise ConnectionError
    assert breaker.state is BreakerState.OPEN
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED


async def test_open_circuit_is_a_503_problem_in_an_app(
    make_app: Callable[..., FastAPI], make_client: Client, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(name="ingredient", failure_threshold=1, reset_timeout=30, clock=clock)
    app = make_app()

    @app.get("/foods")
    async def foods() -> dict[str, int]:
        return {"n": await breaker.call(Flaky(), 1)}

    client = await make_client(app)
    assert (await client.get("/foods")).status_code == 500  # the failure itself
    response = await client.get("/foods")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["code"] == "ops.circuit_open"
    assert response.json()["circuit"] == "ingredient"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"name": "x", "failure_threshold": 0},
        {"name": "x", "reset_timeout": 0},
        {"name": "x", "half_open_max_calls": 0},
    ],
)
def test_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  # each case has its own message
        CircuitBreaker(**kwargs)
