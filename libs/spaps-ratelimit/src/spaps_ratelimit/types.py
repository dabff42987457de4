"""Type aliases of the extension points: plain callables, named once.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeAlias

from starlette.types import Scope

from ._limit import Limit

__all__ = ["Clock", "KeyFunc", "LimitsFunc", "StoreErrorHook"]

#: Seconds as a float, monotonic or wall clock (``time.monotonic``).
Clock: TypeAlias = Callable[[], float]

#: The rate-limit key of a request (client IP, user id, API key hash, tenant ...),
#: or ``None`` when the policy does not apply to it. May be async.
KeyFunc: TypeAlias = Callable[[Scope], str | Awaitable[str | None] | None]

#: Limits for a key (e.g. its plan), or ``None`` for the policy's defaults. May be async.
LimitsFunc: TypeAlias = Callable[[str], Sequence[Limit] | Awaitable[Sequence[Limit] | None] | None]

#: Called on every store failure with the error and whether the limiter failed open;
#: plug a metric in here (e.g. a prometheus Counter's ``labels(...).inc``).
StoreErrorHook: TypeAlias = Callable[[BaseException, bool], None]
