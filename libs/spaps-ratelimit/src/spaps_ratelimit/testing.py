"""Test helpers: a clock you move by hand.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

__all__ = ["ManualClock"]


class ManualClock:
    """A clock that only moves when told; pass it as ``clock=`` to a store.

    Args:
        start: The initial time in seconds.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (>= 0)."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self.now += seconds
