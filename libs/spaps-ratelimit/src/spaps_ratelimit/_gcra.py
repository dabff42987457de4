"""The GCRA core: pure functions over theoretical arrival times (TAT).

Times are microseconds as floats. For a limit with emission interval ``T``
(``period / count``) and tolerance ``tau = burst * T``, a request of ``cost`` units
(1 by default) at ``now`` is admitted when ``max(tat, now) + cost * T - tau <= now``;
admitting it moves the TAT to ``max(tat, now) + cost * T`` -- exactly where ``cost``
single requests at ``now`` would move it when they all fit. A cost above a limit's
burst makes ``cost * T - tau`` positive: that limit refuses it whatever the time, in
one step (no loop, nothing written). Several limits are decided together and
all-or-nothing: if one rejects, no TAT moves, so a rejected request consumes nothing
from the others.

``spaps_ratelimit/_redis.py`` carries the same arithmetic as a Lua script; the tests
run both against one reference model.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import floor

from ._decision import Decision, LimitState
from ._limit import Limit

# Float noise must not turn "exactly one request left" into zero.
_EPSILON = 1e-6
# _ALLOW_AT: ``tat + (T - tau)``, not ``(tat + T) - tau``. The two roundings of the
# latter can land a hair after ``now`` when ``now + T`` crosses a power of two (a
# monotonic clock in microseconds does every 2**k us), and then a fresh client's first
# request was rejected. With ``T - tau <= 0``, ``now + (T - tau)`` never exceeds ``now``.


def _units_left(now: float, allow_at: float, interval: float, cost: int) -> int:
    """Units a limit that refuses ``cost`` still has now (fewer than ``cost``).

    A refused request of one unit leaves none, as before; one of several units may
    leave some, and ``RateLimit`` reports them (``Retry-After`` is when all fit).
    """
    return max(0, min(cost - 1, floor((now - allow_at) / interval + _EPSILON) + cost))


def decide_one(
    now: float, stored: float | None, limit: Limit, cost: int = 1
) -> tuple[Decision, float | None]:
    """:func:`decide` for a single limit: the common case, kept cheap."""
    tat = now if stored is None or stored < now else stored
    interval = limit.interval_us
    increment = interval if cost == 1 else cost * interval
    new_tat = tat + increment
    allow_at = tat + (increment - limit.tolerance_us)  # see _ALLOW_AT
    if now >= allow_at:
        remaining = floor((now - allow_at) / interval + _EPSILON)
        state = LimitState(limit, True, remaining, (new_tat - now) / 1e6, 0.0)
        return Decision(True, (state,)), new_tat
    left = 0 if cost == 1 else _units_left(now, allow_at, interval, cost)
    state = LimitState(limit, False, left, (tat - now) / 1e6, (allow_at - now) / 1e6)
    return Decision(False, (state,)), None


def decide(
    now: float, tats: Sequence[float | None], limits: Sequence[Limit], cost: int = 1
) -> tuple[Decision, list[float] | None]:
    """Decide one request against ``limits`` whose stored TATs are ``tats``.

    Args:
        now: The current time, in microseconds.
        tats: The stored TAT of each limit (``None`` when absent or expired).
        limits: The limits, in the same order.
        cost: The units the request takes from every limit (>= 1).

    Returns:
        The decision, and the new TATs to store (``None`` when the request is rejected
        and nothing must be written). A TAT may be dropped once ``now`` passes it.
    """
    if len(limits) == 1:
        decision, new_tat = decide_one(now, tats[0], limits[0], cost)
        return decision, None if new_tat is None else [new_tat]
    admitted_all = True
    new_tats: list[float] = []
    raw: list[tuple[Limit, float, float, float]] = []
    for limit, stored in zip(limits, tats, strict=True):
        tat = now if stored is None or stored < now else stored
        increment = cost * limit.interval_us
        new_tat = tat + increment
        allow_at = tat + (increment - limit.tolerance_us)  # see _ALLOW_AT
        admitted_all = admitted_all and now >= allow_at
        new_tats.append(new_tat)
        raw.append((limit, tat, new_tat, allow_at))
    states = []
    for limit, tat, new_tat, allow_at in raw:
        if admitted_all:
            remaining = floor((now - allow_at) / limit.interval_us + _EPSILON)
            states.append(LimitState(limit, True, remaining, (new_tat - now) / 1e6, 0.0))
        elif now >= allow_at:
            # Admissible by itself, but another limit rejected: report it unconsumed.
            remaining = floor((now - allow_at) / limit.interval_us + _EPSILON) + cost
            states.append(LimitState(limit, True, remaining, (tat - now) / 1e6, 0.0))
        else:
            retry = (allow_at - now) / 1e6
            left = 0 if cost == 1 else _units_left(now, allow_at, limit.interval_us, cost)
            states.append(LimitState(limit, False, left, (tat - now) / 1e6, retry))
    return Decision(admitted_all, tuple(states)), (new_tats if admitted_all else None)
