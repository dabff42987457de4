"""``RateLimiter``: a store plus the policy for store failures."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence

from ._decision import Decision
from ._errors import RateLimitStoreUnavailable
from ._limit import Limit
from ._memory import MemoryStore
from ._store import Store
from .types import StoreErrorHook

_LOGGER = logging.getLogger("spaps_ratelimit")
_OPEN = Decision(True, (), degraded=True)


def _takes_cost(store: Store) -> bool:
    """Whether ``store.decide`` accepts ``cost=`` (a store written before 0.5 may not)."""
    try:
        parameters = inspect.signature(store.decide).parameters
    except (TypeError, ValueError):  # no signature to read: let the call itself tell
        return True
    return "cost" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


class RateLimiter:
    """Decides requests against a :class:`Store` and survives the store failing.

    When the store raises (Redis down, timeout), the limiter either admits the request
    (``fail_open=True``, the default: availability first) or raises
    :class:`RateLimitStoreUnavailable` (503). Either way it calls ``on_store_error``
    (your metric) and logs a warning on the ``spaps_ratelimit`` logger -- the first
    failure at once, then at most one summary line per ``log_interval`` seconds -- and
    an info line when the store answers again. Nothing needs restarting: the next
    decision simply tries the store again.

    Args:
        store: Where state lives; defaults to a new :class:`MemoryStore`.
        fail_open: Admit requests while the store fails (else answer 503).
        on_store_error: Called with ``(error, failed_open)`` on every store failure.
        logger: Logger for failure/recovery lines.
        log_interval: Minimum seconds between two failure log lines.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        fail_open: bool = True,
        on_store_error: StoreErrorHook | None = None,
        logger: logging.Logger | None = None,
        log_interval: float = 10.0,
    ) -> None:
        if store is not None and not isinstance(store, Store):
            raise TypeError(f"store must implement spaps_ratelimit.Store, got {store!r}")
        if not isinstance(fail_open, bool):
            raise TypeError(f"fail_open must be a bool, got {fail_open!r}")
        if on_store_error is not None and not callable(on_store_error):
            raise TypeError(f"on_store_error must be callable, got {on_store_error!r}")
        if log_interval < 0:
            raise ValueError(f"log_interval must be >= 0, got {log_interval}")
        self.store: Store = store if store is not None else MemoryStore()
        self.fail_open = fail_open
        self._on_store_error = on_store_error
        self._logger = logger or _LOGGER
        self._log_interval = log_interval
        # Failure bookkeeping for log throttling only; decisions never depend on it.
        self._failures = 0
        self._last_log = -float("inf")

    async def hit(
        self, key: str, limits: Sequence[Limit], *, namespace: str = "", cost: int = 1
    ) -> Decision:
        """Decide one request of ``key`` against ``limits`` (all-or-nothing).

        Args:
            key: Who is limited (an IP, user id, API key hash ...).
            limits: The limits to apply; each has its own state.
            namespace: Separates policies that limit the same key differently.
            cost: Units the request takes from every limit, charged in one decision:
                admitted exactly when ``cost`` single requests would all be, and then
                leaving the same state. A cost above a limit's burst is always
                refused (check it against ``Limit.burst`` first: its ``retry_after``
                promises nothing).

        Raises:
            RateLimitStoreUnavailable: The store failed and ``fail_open`` is False.
            TypeError: ``cost`` is not an int, or is above 1 for a store whose
                ``decide`` takes no ``cost`` (see :class:`Store`).
            ValueError: ``cost`` is below 1.

        .. versionchanged:: 0.5.0 ``cost``.
        """
        if cost != 1 or cost.__class__ is not int:  # True == 1, yet no cost
            self._check_cost(cost)
        base = f"{namespace}:{key}:" if namespace else f"{key}:"
        keys = [base + limits[0].id] if len(limits) == 1 else [base + lim.id for lim in limits]
        store = self.store
        try:
            if store.__class__ is MemoryStore:  # skip a coroutine on the hot path
                decision = store.decide_now(keys, limits, cost=cost)
            elif cost == 1:  # as 0.4 called it: stores without ``cost`` keep working
                decision = await store.decide(keys, limits)
            else:
                decision = await store.decide(keys, limits, cost=cost)
        except Exception as exc:  # any store failure is handled by the fail policy
            self._failed(exc)
            if self.fail_open:
                return _OPEN
            raise RateLimitStoreUnavailable() from exc
        if self._failures:
            self._logger.info(
                "rate-limit store recovered after %d failed decisions", self._failures
            )
            self._failures = 0
            self._last_log = -float("inf")
        return decision

    def _check_cost(self, cost: int) -> None:
        # Before the store is called: a wrong cost is a bug to raise, never a store
        # failure for the fail-open policy to admit.
        if not isinstance(cost, int) or isinstance(cost, bool):
            raise TypeError(f"cost must be an int, got {cost!r}")
        if cost < 1:
            raise ValueError(f"cost must be >= 1, got {cost}")
        if not _takes_cost(self.store):
            raise TypeError(
                f"{type(self.store).__name__}.decide takes no cost; a cost above 1 needs "
                "a store implementing Store.decide(keys, limits, *, cost=1) (0.5.0)"
            )

    async def aclose(self) -> None:
        """Close the store."""
        await self.store.aclose()

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        if self._on_store_error is not None:
            self._on_store_error(exc, self.fail_open)
        now = time.monotonic()
        if now - self._last_log >= self._log_interval:
            self._last_log = now
            self._logger.warning(
                "rate-limit store failed (%s: %s); failing %s; %d failed decisions so far",
                type(exc).__name__,
                exc,
                "open" if self.fail_open else "closed",
                self._failures,
            )
