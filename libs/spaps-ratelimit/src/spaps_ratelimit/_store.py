"""The ``Store`` protocol every limit store implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ._decision import Decision
from ._limit import Limit


@runtime_checkable
class Store(Protocol):
    """Where theoretical arrival times live; one call decides one request.

    ``keys[i]`` is the storage key of ``limits[i]``. Implementations decide all limits
    atomically and all-or-nothing (see :func:`spaps_ratelimit._gcra.decide`).

    A request may weigh several units (``cost``, e.g. a GraphQL operation's cost): the
    store charges them in the same single decision, moving each TAT by
    ``cost * interval``, and refuses a cost above a limit's burst without writing.
    :class:`RateLimiter` calls ``decide(keys, limits)`` -- without ``cost`` -- for a
    cost of 1, so a store written for 0.4 keeps working unchanged; it passes
    ``cost=n`` (keyword) only for ``n > 1``, and refuses such a call with
    :class:`TypeError` up front when the store's ``decide`` takes no ``cost``.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.5.0 ``decide`` takes a keyword-only ``cost`` (default 1).
    """

    async def decide(
        self, keys: Sequence[str], limits: Sequence[Limit], *, cost: int = 1
    ) -> Decision:
        """Decide one request of ``cost`` units and record it when admitted."""
        ...

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the state of ``keys`` (e.g. after an operator unblocks a client)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
