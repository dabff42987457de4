"""Task base class and the ``job`` decorator: retry with backoff, then dead-letter."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

import structlog
from celery import Task

__all__ = ["JobTask", "backoff_delay", "make_job"]

_log = structlog.get_logger("spaps_jobs.task")


def backoff_delay(
    retries: int, *, base: float, cap: float, jitter: bool, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``retries + 1``.

    Exponential (``base * 2**retries``, at most ``cap``) with "full jitter" (uniform in
    ``[0, delay]``), which spreads a burst of failing tasks instead of retrying them in
    lock-step.
    """
    delay = min(cap, base * (2**retries))
    if jitter:
        delay = (rng or random).uniform(0, delay)
    return float(delay)


class JobTask(Task):  # type: ignore[misc]  # celery ships no type hints
    """Celery task base: a final failure is written to the app's dead-letter store."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        runtime = getattr(self.app, "spaps_runtime", None)
        store = runtime.dead_letters if runtime is not None else None
        if store is None:
            return
        request = self.request
        headers = {
            name: value
            for name, value in (getattr(request, "headers", None) or {}).items()
            if isinstance(name, str) and name.startswith("spaps_")
        }
        delivery = getattr(request, "delivery_info", None) or {}
        try:
            letter_id = store.add(
                task_name=self.name,
                task_id=task_id,
                args=list(args or ()),
                kwargs=dict(kwargs or {}),
                error=repr(exc),
                traceback=str(einfo) if einfo is not None else "",
                attempts=int(request.retries or 0) + 1,
                headers=headers,
                queue=delivery.get("routing_key"),
            )
        except Exception as store_exc:  # never hide the task's own failure
            _log.error("task.dead_letter_failed", task_id=task_id, error=repr(store_exc))
            return
        _log.warning("task.dead_lettered", task_id=task_id, dead_letter_id=letter_id)


def make_job(
    app: Any,
    func: Callable[..., Any],
    *,
    retry_on: tuple[type[BaseException], ...],
    max_retries: int,
    backoff: float,
    backoff_max: float,
    jitter: bool,
    bind: bool,
    options: dict[str, Any],
) -> Any:
    """Register ``func`` as a :class:`JobTask` with the retry policy wrapped around it."""
    if not isinstance(retry_on, tuple) or not all(
        isinstance(e, type) and issubclass(e, BaseException) for e in retry_on
    ):
        raise TypeError("retry_on must be a tuple of exception classes")
    if not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError("max_retries must be a non-negative integer")
    if backoff <= 0 or backoff_max < backoff:
        raise ValueError("need 0 < backoff <= backoff_max")

    @functools.wraps(func)
    def run(task: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(task, *args, **kwargs) if bind else func(*args, **kwargs)
        except retry_on as exc:
            retries = int(task.request.retries or 0)
            if retries >= max_retries:
                raise
            countdown = backoff_delay(retries, base=backoff, cap=backoff_max, jitter=jitter)
            raise task.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc

    # ``typing=False``: the wrapper's signature is not the task's (``bind`` is internal).
    return app.task(bind=True, base=JobTask, max_retries=max_retries, typing=False, **options)(run)
