"""``install_retention``: the Celery task that purges one retention target."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from celery import Celery, Task

from ._retention import PurgeReport, Retention

__all__ = ["BatchProgress", "RetentionFactory", "install_retention", "purge_targets"]

BatchProgress = Callable[[str, int], contextlib.AbstractContextManager[Callable[[int], None]]]
"""Called with a target's name and its expired rows before a purge; enters a context (a
progress bar) that yields the callback each committed batch's row count goes to."""

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


async def purge_targets(
    retention: Retention,
    names: Iterable[str] = (),
    *,
    dry_run: bool = False,
    progress: BatchProgress | None = None,
) -> list[PurgeReport]:
    """Purge ``names`` (default: every registered target, in registration order) one
    after the other, as a command does: with ``progress``, each live purge counts its
    expired rows first (a dry run) so that ``progress`` can show how far it is.

    Args:
        retention: The runner.
        names: Target names; unknown ones raise before anything is purged.
        dry_run: Count only (``progress`` is not called).
        progress: See :data:`BatchProgress`.

    Returns:
        One report per target, in order.

    .. versionadded:: 0.5.0
    """
    chosen = list(names) or list(retention.names)
    for name in chosen:
        retention.keep_for(name)  # an unknown name fails here, before any purge
    reports = []
    for name in chosen:
        if dry_run or progress is None:
            reports.append(await retention.purge(name, dry_run=dry_run))
            continue
        # The count sizes the progress bar; without one, nothing needs it.
        expired = await retention.purge(name, dry_run=True)
        with progress(name, expired.rows) as advance:
            reports.append(await retention.purge(name, progress=advance))
    return reports
