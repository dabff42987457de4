"""``MemoryStore``: bounded in-process GCRA state for a single process."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

from ._decision import Decision
from ._gcra import decide, decide_one
from ._limit import Limit
from .types import Clock


class MemoryStore:
    """Keeps TATs in a bounded LRU dictionary: O(1) per decision, no locks.

    Decisions never ``await`` between reading and writing state, so concurrent
    requests in one event loop cannot interleave inside a decision. The state is per
    process: with several workers each has its own budget (use :class:`RedisStore`).

    Memory is bounded by ``max_keys`` entries. When full, a sweep drops expired entries
    (a TAT in the past carries no state); sweeps run at most once per ``max_keys // 2``
    insertions so the cost stays O(1) amortised. Between sweeps, or when nothing has
    expired, the least recently used entry is evicted: that client starts afresh,
    which trades exactness for a hard memory bound.

    Args:
        max_keys: Maximum number of (key, limit) entries kept.
        clock: Seconds as a float; defaults to :func:`time.monotonic`. Tests inject a
            :class:`spaps_ratelimit.testing.ManualClock`.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, max_keys: int = 100_000, clock: Clock | None = None) -> None:
        if not isinstance(max_keys, int) or isinstance(max_keys, bool):
            raise TypeError(f"max_keys must be an int, got {max_keys!r}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, got {max_keys}")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning seconds, got {clock!r}")
        self._max_keys = max_keys
        self._clock = clock or time.monotonic
        self._tats: OrderedDict[str, float] = OrderedDict()
        self._inserts_since_sweep = max_keys  # the first time we are full, sweep
        self._sweep_every = max(1, max_keys // 2)

    def __len__(self) -> int:
        return len(self._tats)

    async def decide(
        self, keys: Sequence[str], limits: Sequence[Limit], *, cost: int = 1
    ) -> Decision:
        """Decide one request; see :class:`spaps_ratelimit.Store`.

        .. versionchanged:: 0.5.0 ``cost``.
        """
        return self.decide_now(keys, limits, cost=cost)

    def decide_now(
        self, keys: Sequence[str], limits: Sequence[Limit], *, cost: int = 1
    ) -> Decision:
        """Synchronous :meth:`decide`, for code that is not async.

        .. versionchanged:: 0.5.0 ``cost``.
        """
        now = self._clock() * 1e6
        tats = self._tats
        if len(keys) == 1:  # the common case, without the list juggling
            key = keys[0]
            one, new_tat = decide_one(now, tats.get(key), limits[0], cost)
            if new_tat is not None:
                if key in tats:
                    tats.move_to_end(key)
                else:
                    self._make_room(now)
                tats[key] = new_tat
            return one
        stored = [tats.get(key) for key in keys]
        decision, new_tats = decide(now, stored, limits, cost)
        if new_tats is not None:
            for key, tat in zip(keys, new_tats, strict=True):
                if key in tats:
                    tats.move_to_end(key)
                else:
                    self._make_room(now)
                tats[key] = tat
        return decision

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget ``keys``."""
        for key in keys:
            self._tats.pop(key, None)

    async def aclose(self) -> None:
        """Drop all state."""
        self._tats.clear()

    def _make_room(self, now: float) -> None:
        tats = self._tats
        self._inserts_since_sweep += 1
        if len(tats) < self._max_keys:
            return
        if self._inserts_since_sweep >= self._sweep_every:
            self._inserts_since_sweep = 0
            for key in [key for key, tat in tats.items() if tat <= now]:
                del tats[key]
        while len(tats) >= self._max_keys:
            tats.popitem(last=False)
