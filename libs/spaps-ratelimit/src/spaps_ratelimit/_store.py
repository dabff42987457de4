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

    .. versionadded:: 0.1.0
    """

    async def decide(self, keys: Sequence[str], limits: Sequence[Limit]) -> Decision:
        """Decide one request and record it when admitted."""
        ...

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the state of ``keys`` (e.g. after an operator unblocks a client)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
