"""The inner half of the ``create_app`` stack as one ASGI layer."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._maintenance import MaintenanceMiddleware, MaintenanceSwitch
from ._probes import ProbesMiddleware
from ._problem import answer_exception
from ._state import Ops


class GuardMiddleware:
    """Maintenance mode, problem rendering and probes in one layer.

    Behaves like ``MaintenanceMiddleware`` > ``ProblemMiddleware`` > ``ProbesMiddleware``
    stacked in that order: while the switch is on, non-exempt requests get the 503;
    probes and ``/metrics`` are answered by exact path; exceptions escaping before the
    response started become problem+json.

    Args:
        app: the ASGI app to wrap.
        ops: the app's state (maintenance switch, checks, metrics).
    """

    def __init__(self, app: ASGIApp, *, ops: Ops) -> None:
        if not isinstance(ops, Ops):
            raise TypeError("ops must be an Ops")
        self.app = app
        self.maintenance = MaintenanceMiddleware(app, switch=ops.maintenance)
        self.switch: MaintenanceSwitch = ops.maintenance
        self.probes = ProbesMiddleware(app, ops=ops)
        self.probe_paths = frozenset(self.probes._handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.switch.enabled and not self.maintenance.exempt(scope["path"]):
            await self.maintenance(scope, receive, send)  # answers the 503
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            if scope["method"] == "GET" and scope["path"] in self.probe_paths:
                await self.probes(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:
                raise  # too late to answer; let the server close the connection
            await answer_exception(exc, scope, receive, send)
