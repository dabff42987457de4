"""``install_retention``: the Celery task that purges one retention target."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from celery import Celery, Task

from ._retention import PurgeReport, Retention

__all__ = ["RetentionFactory", "install_retention"]

RetentionFactory = Callable[[], contextlib.AbstractAsyncContextManager[Retention]]
"""Opens a :class:`~spaps_jobs.Retention` (its engine and targets) and closes it afterwards."""


def install_retention(
    app: Celery, factory: RetentionFactory, *, task_name: str = "spaps.retention.purge"
) -> Task:
    """Register the Celery task that purges one retention target.

    The task takes one argument, the target name; it opens ``factory()``, awaits
    :meth:`Retention.purge` under ``asyncio.run`` and returns the report as a dict
    (``name``, ``rows``, ``batches``, ``dry_run``, ``cutoff``). Beat runs it from the
    ``schedules`` setting, e.g. ``{"purge-outbox": {"task": "spaps.retention.purge",
    "every": 3600, "args": ["jobs.outbox"]}}``.

    The factory is called in the task, once per run: each run has its own event loop,
    so create the ``AsyncEngine`` inside it (and dispose of it on the way out).

    Args:
        app: The Celery app.
        factory: Returns an async context manager that yields a ready
            :class:`Retention`.
        task_name: Name of the task.

    Returns:
        The registered task.

    .. versionadded:: 0.5.0
    """
    if not isinstance(app, Celery):
        raise TypeError("app must be a Celery app")
    if not callable(factory):
        raise TypeError("factory must be callable")
    if not isinstance(task_name, str) or not task_name:
        raise ValueError("task_name must be a non-empty string")

    async def run(name: str) -> PurgeReport:
        async with factory() as retention:
            if not isinstance(retention, Retention):
                raise TypeError(f"the retention factory yielded {retention!r}, not a Retention")
            return await retention.purge(name)

    def purge(name: str) -> dict[str, Any]:
        return asyncio.run(run(name)).as_dict()

    purge.__doc__ = "Purge the finished rows of one retention target (its name)."
    # Not shared: every app gets the task of its own factory, never another app's.
    return app.task(name=task_name, shared=False)(purge)
