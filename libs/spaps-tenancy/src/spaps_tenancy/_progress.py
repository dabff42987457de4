"""A progress bar on stderr for the CLI (rich), behind the plain ``Progress`` callback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._transfer import Progress


@contextmanager
def progress_reporter(*, enabled: bool) -> Iterator[Progress | None]:
    """Yield a :data:`Progress` callback drawing one bar per table, or ``None`` when disabled."""
    if not enabled:
        yield None
        return
    try:
        from rich.console import Console  # noqa: PLC0415  # optional 'cli' extra, loaded only when a bar is drawn
        from rich.progress import (  # noqa: PLC0415  # as above
            BarColumn,
            MofNCompleteColumn,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bars  # noqa: PLC0415  # as above
    except ImportError:
        yield None
        return
    bars = Bars(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(table: str, done: int, total: int) -> None:
        if table not in tasks:
            tasks[table] = bars.add_task(table, total=total or None)
        bars.update(tasks[table], completed=done, total=max(total, done) or None)

    with bars:
        yield report
