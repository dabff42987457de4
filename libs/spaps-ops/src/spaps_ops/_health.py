"""Liveness, readiness and details probes over registered async checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A readiness check: raise (or time out) when the dependency is unusable; may return a
#: mapping of details shown by ``/health`` (e.g. the migration revisions).
HealthCheck = Callable[[], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check run."""

    name: str
    ok: bool
    duration_ms: float
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``/health``."""
        out: dict[str, Any] = {"status": "ok" if self.ok else "failing"}
        out["duration_ms"] = self.duration_ms
        if self.error is not None:
            out["error"] = self.error
        if self.details:
            out["details"] = dict(self.details)
        return out


class HealthRegistry:
    """The readiness checks of one app, run concurrently with a timeout each."""

    def __init__(self) -> None:
        self._checks: dict[str, tuple[HealthCheck, float]] = {}

    def add_check(self, name: str, check: HealthCheck, *, timeout: float = 2.0) -> None:
        """Register a readiness check.

        Args:
            name: unique name shown in probes (``database``, ``redis``...).
            check: async callable; raising or exceeding ``timeout`` means failing.
            timeout: seconds the check may take.
        """
        if not name:
            raise ValueError("check name must be non-empty")
        if name in self._checks:
            raise ValueError(f"a health check named {name!r} is already registered")
        if not callable(check):
            raise TypeError("check must be an async callable")
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self._checks[name] = (check, timeout)

    @property
    def names(self) -> tuple[str, ...]:
        """Registered check names, in registration order."""
        return tuple(self._checks)

    async def _run_one(self, name: str, check: HealthCheck, limit: float) -> CheckResult:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                details = await check()
        except TimeoutError:
            error: str | None = f"timed out after {limit:g} s"
            details = None
        except Exception as exc:  # any failure makes the check fail, with its type named
            error = f"{type(exc).__name__}: {exc}"[:300]
            details = None
        else:
            error = None
        return CheckResult(
            name=name,
            ok=error is None,
            duration_ms=round((time.perf_counter() - start) * 1000, 3),
            error=error,
            details=details or {},
        )

    async def run(self) -> list[CheckResult]:
        """Run every check concurrently; results in registration order."""
        tasks = [self._run_one(name, c, t) for name, (c, t) in self._checks.items()]
        return list(await asyncio.gather(*tasks))
