"""A circuit breaker around any awaitable."""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import ParamSpec, TypeVar

from ._errors import CircuitOpenError

P = ParamSpec("P")
T = TypeVar("T")


class BreakerState(enum.Enum):
    """The states of a :class:`CircuitBreaker`."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


#: Called as ``(breaker_name, old_state, new_state)`` on every transition.
StateListener = Callable[[str, BreakerState, BreakerState], None]
#: Called as ``(breaker_name, outcome)`` with outcome ``success``, ``failure`` or ``rejected``.
CallListener = Callable[[str, str], None]


class CircuitBreaker:
    """Stop calling a failing dependency for a while, then probe it.

    Closed: calls pass; ``failure_threshold`` consecutive failures open the circuit.
    Open: calls raise :class:`CircuitOpenError` (503, ``Retry-After``) without running,
    until ``reset_timeout`` seconds passed. Half-open: up to ``half_open_max_calls`` trial
    calls run at once; one success closes the circuit, one failure opens it again.

    Use ``async with breaker: await call()`` or ``await breaker.call(fn, *args)``.

    Args:
        name: shown in errors, metrics and logs.
        failure_threshold: consecutive failures that open the circuit.
        reset_timeout: seconds the circuit stays open before trial calls.
        half_open_max_calls: concurrent trial calls allowed while half-open.
        failure_types: exceptions counted as failures; others pass through uncounted.
        clock: monotonic clock in seconds (inject a fake in tests).
        on_state_change: listener for transitions (e.g. to set a Prometheus gauge).
        on_call: listener for call outcomes (e.g. to count them).
    """

    def __init__(
        self,
        *,
        name: str,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        failure_types: tuple[type[BaseException], ...] = (Exception,),
        clock: Callable[[], float] = time.monotonic,
        on_state_change: StateListener | None = None,
        on_call: CallListener | None = None,
    ) -> None:
        if not name:
            raise ValueError("name must be non-empty")
        if not isinstance(failure_threshold, int) or failure_threshold < 1:
            raise ValueError("failure_threshold must be an int >= 1")
        if reset_timeout <= 0:
            raise ValueError("reset_timeout must be > 0")
        if not isinstance(half_open_max_calls, int) or half_open_max_calls < 1:
            raise ValueError("half_open_max_calls must be an int >= 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self.failure_types = failure_types
        self._clock = clock
        self._on_state_change = on_state_change
        self._on_call = on_call
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0

    @property
    def state(self) -> BreakerState:
        """The current state (an open circuit past its timeout reads as half-open)."""
        if self._state is BreakerState.OPEN and self._remaining() <= 0:
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures counted while closed."""
        return self._failures

    def _remaining(self) -> float:
        return self._opened_at + self.reset_timeout - self._clock()

    def _transition(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if new is BreakerState.OPEN:
            self._opened_at = self._clock()
        if new is not BreakerState.CLOSED:
            self._trials = 0
        if new is BreakerState.CLOSED:
            self._failures = 0
        if old is not new and self._on_state_change is not None:
            self._on_state_change(self.name, old, new)

    def _notify(self, outcome: str) -> None:
        if self._on_call is not None:
            self._on_call(self.name, outcome)

    def _before(self) -> None:
        state = self.state
        if state is BreakerState.OPEN:
            self._notify("rejected")
            raise CircuitOpenError(self.name, self._remaining())
        if state is BreakerState.HALF_OPEN:
            if self._trials >= self.half_open_max_calls:
                self._notify("rejected")
                raise CircuitOpenError(self.name, self.reset_timeout)
            self._trials += 1

    def _after(self, exc: BaseException | None) -> None:
        if exc is not None and not isinstance(exc, self.failure_types):
            if self._state is BreakerState.HALF_OPEN:
                self._trials -= 1  # not a verdict on the dependency; free the slot
            return
        if exc is None:
            self._notify("success")
            if self._state is BreakerState.HALF_OPEN:
                self._transition(BreakerState.CLOSED)
            else:
                self._failures = 0
            return
        self._notify("failure")
        if self._state is BreakerState.HALF_OPEN:
            self._transition(BreakerState.OPEN)
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._transition(BreakerState.OPEN)

    async def __aenter__(self) -> CircuitBreaker:
        self._before()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._after(exc)

    async def call(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``fn(*args, **kwargs)`` through the breaker.

        Raises:
            CircuitOpenError: the circuit is open (``fn`` is not called).
        """
        async with self:
            return await fn(*args, **kwargs)

    def reset(self) -> None:
        """Close the circuit and forget failures (e.g. from an admin action)."""
        self._transition(BreakerState.CLOSED)
