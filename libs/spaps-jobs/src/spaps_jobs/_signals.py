"""Celery signal handlers: request-id propagation, structured task logs, metrics.

Celery signals are process-global; the handlers are connected once and act only on
tasks of apps built by :func:`~spaps_jobs.create_celery_app` (they find the app's
metrics through ``task.app``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog
from celery import signals

__all__ = ["REQUEST_ID_HEADER", "connect_signals", "current_request_id"]

REQUEST_ID_HEADER = "spaps_request_id"
"""Celery message header carrying the id of the HTTP request that enqueued the task."""

_log = structlog.get_logger("spaps_jobs.task")
_lock = threading.Lock()
_connected = False
_started: dict[str, float] = {}
_tokens: dict[str, Any] = {}


def current_request_id() -> str | None:
    """The request id bound in structlog's contextvars (spaps-ops binds ``request_id``)."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return None if value is None else str(value)


def _runtime(task: Any) -> Any:
    return getattr(getattr(task, "app", None), "spaps_runtime", None)


def _header(task: Any, name: str) -> Any:
    request = task.request
    value = request.get(name) if hasattr(request, "get") else None
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None or headers.get(REQUEST_ID_HEADER):
        return
    request_id = current_request_id()
    if request_id is not None:
        headers[REQUEST_ID_HEADER] = request_id


def _on_prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
    runtime = _runtime(task)
    if runtime is None:
        return
    _started[task_id] = time.perf_counter()
    request_id = _header(task, REQUEST_ID_HEADER)
    bound: dict[str, Any] = {"task_id": task_id, "task_name": task.name}
    if request_id is not None:
        bound["request_id"] = request_id
    # Keep the tokens: postrun restores what was bound before (an eager task run inside
    # an HTTP request must not unbind that request's own request_id).
    _tokens[task_id] = structlog.contextvars.bind_contextvars(**bound)
    runtime.metrics.tasks.labels(task.name, "started").inc()
    _log.info("task.started", attempt=task.request.retries + 1)


def _finish(task: Any, task_id: str, state: str, **fields: Any) -> None:
    runtime = _runtime(task)
    if runtime is None:
        return
    started = _started.pop(task_id, None)
    duration = time.perf_counter() - started if started is not None else None
    runtime.metrics.tasks.labels(task.name, state).inc()
    if duration is not None:
        runtime.metrics.duration.labels(task.name, state).observe(duration)
    log = _log.error if state == "failed" else _log.info
    log(f"task.{state}", duration=duration, **fields)


def _on_success(sender: Any = None, **_: Any) -> None:
    _finish(sender, sender.request.id, "succeeded")


def _on_failure(
    sender: Any = None, task_id: str = "", exception: BaseException | None = None, **_: Any
) -> None:
    _finish(sender, task_id, "failed", error=repr(exception))


def _on_retry(sender: Any = None, request: Any = None, reason: Any = None, **_: Any) -> None:
    task_id = getattr(request, "id", None) or sender.request.id
    _finish(sender, task_id, "retried", reason=str(reason))


def _on_postrun(task_id: str = "", task: Any = None, **_: Any) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        structlog.contextvars.reset_contextvars(**tokens)


def connect_signals() -> None:
    """Connect the handlers once per process (idempotent)."""
    global _connected  # noqa: PLW0603 -- signals are process-global, so is this guard
    with _lock:
        if _connected:
            return
        signals.before_task_publish.connect(_on_publish, weak=False)
        signals.task_prerun.connect(_on_prerun, weak=False)
        signals.task_success.connect(_on_success, weak=False)
        signals.task_failure.connect(_on_failure, weak=False)
        signals.task_retry.connect(_on_retry, weak=False)
        signals.task_postrun.connect(_on_postrun, weak=False)
        _connected = True
