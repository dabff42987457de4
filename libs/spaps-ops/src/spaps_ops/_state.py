"""The typed per-app state ``create_app`` builds: resources, checks, hooks, switches."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from ._errors import OpsNotConfiguredError
from ._health import HealthCheck, HealthRegistry
from ._maintenance import MaintenanceSwitch
from ._registry import ErrorRegistry

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ._metrics import HttpMetrics
    from ._settings import OpsSettings

R = TypeVar("R")
#: A start-up or shutdown hook: an async callable receiving the app.
LifespanHook = Callable[["FastAPI"], Awaitable[None]]
_STATE_KEY = "spaps_ops"


class Ops:
    """What ``create_app`` keeps for one app; reach it with :func:`get_ops`.

    Attributes:
        settings: the settings the app was built with.
        errors: the error-code registry.
        health: the readiness checks.
        maintenance: the runtime maintenance switch.
        metrics: the HTTP metrics (``None`` when disabled).
    """

    def __init__(
        self,
        *,
        settings: OpsSettings,
        errors: ErrorRegistry,
        maintenance: MaintenanceSwitch,
        metrics: HttpMetrics | None,
    ) -> None:
        self.settings = settings
        self.errors = errors
        self.health = HealthRegistry()
        self.maintenance = maintenance
        self.metrics = metrics
        self._pending: list[object] = []
        self._stack: AsyncExitStack | None = None

    def add_check(self, name: str, check: HealthCheck, *, timeout: float | None = None) -> None:
        """Register a readiness check (see :meth:`HealthRegistry.add_check`).

        Args:
            name: unique name.
            check: async callable that raises when the dependency is unusable.
            timeout: seconds (default: ``settings.readiness_timeout``).
        """
        self.health.add_check(
            name, check, timeout=self.settings.readiness_timeout if timeout is None else timeout
        )

    def add_resource(self, resource: R) -> R:
        """Register a resource to open at start-up and close at shutdown, in reverse order.

        A resource is an async context manager (entered at start-up), or has ``aclose()``
        or ``close()`` (sync or async). Inside a start-up hook use :meth:`enter` instead.

        Args:
            resource: the resource.
        """
        _closer_kind(resource)
        if self._stack is not None:
            raise RuntimeError("the app has started: use `await get_ops(app).enter(resource)`")
        self._pending.append(resource)
        return resource

    async def enter(self, resource: R) -> R:
        """Open ``resource`` now (from a start-up hook); it closes at shutdown.

        Args:
            resource: as for :meth:`add_resource`.
        """
        stack = self._stack
        if stack is None:
            raise RuntimeError("the app is not running: use add_resource before start-up")
        kind = _closer_kind(resource)
        if kind == "async_cm":
            await stack.enter_async_context(resource)  # type: ignore[arg-type]  # checked by _closer_kind
        elif kind == "aclose":
            stack.push_async_callback(resource.aclose)  # type: ignore[attr-defined]  # checked by _closer_kind
        else:
            stack.push_async_callback(_call_close, resource)
        return resource

    async def _open(self, stack: AsyncExitStack) -> None:
        """Start-up: open the registered resources on ``stack`` (``create_app``'s lifespan)."""
        self._stack = stack
        pending, self._pending = self._pending, []
        for resource in pending:
            await self.enter(resource)

    def _closed(self) -> None:
        """Shutdown finished: resources may be registered again for a next start-up."""
        self._stack = None


def _closer_kind(resource: object) -> str:
    if hasattr(resource, "__aenter__") and hasattr(resource, "__aexit__"):
        return "async_cm"
    if callable(getattr(resource, "aclose", None)):
        return "aclose"
    if callable(getattr(resource, "close", None)):
        return "close"
    raise TypeError(
        f"{type(resource).__name__} is not a resource: need an async context manager, "
        "aclose() or close()"
    )


async def _call_close(resource: Any) -> None:
    result = resource.close()
    if inspect.isawaitable(result):
        await result


def set_ops(app: Starlette, ops: Ops) -> None:
    """Attach ``ops`` to ``app`` (``create_app`` does it)."""
    setattr(app.state, _STATE_KEY, ops)


def get_ops(source: Starlette | HTTPConnection) -> Ops:
    """The :class:`Ops` of an app built by ``create_app``.

    Args:
        source: the app, or a request/websocket of it.

    Raises:
        OpsNotConfiguredError: the app was not built by ``create_app``.
    """
    app = source.app if isinstance(source, HTTPConnection) else source
    ops = getattr(app.state, _STATE_KEY, None)
    if not isinstance(ops, Ops):
        raise OpsNotConfiguredError(
            "this app has no spaps-ops state: build it with spaps_ops.create_app(settings)"
        )
    return ops
