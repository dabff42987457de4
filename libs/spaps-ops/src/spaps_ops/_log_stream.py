"""The log stream: lines of one event-loop turn written together."""

from __future__ import annotations

import asyncio
import atexit
import threading
from typing import TextIO


class LoopBatchedStream:
    """A text stream that writes the lines logged during one event-loop turn at once.

    structlog's ``WriteLogger`` writes and flushes each line: one system call per line.
    Behind this wrapper, lines logged on a thread running an asyncio loop are joined and
    written with one write and one flush at the start of the loop's next turn (a
    ``call_soon`` callback: microseconds later, before any I/O wait); lines logged where
    no loop runs (start-up, worker threads, CLIs) first flush what is pending, then are
    written at once, so order within a thread is kept and nothing waits for a loop. What
    is pending is also written at interpreter exit. A process killed outright can lose
    the lines of the turn it was in.

    Args:
        stream: the real stream (e.g. ``sys.stdout``).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending: list[str] = []
        self._scheduled = False
        self._lock = threading.Lock()
        atexit.register(self.drain)

    def write(self, text: str) -> int:
        """Queue ``text`` (written at :meth:`flush`'s turn end or at once, see class)."""
        with self._lock:
            self._pending.append(text)
        return len(text)

    def write_line(self, line: str) -> None:
        """``write(line + "\\n")`` then :meth:`flush`, as structlog's ``WriteLogger`` does
        for each line, in one call.

        Args:
            line: one log line, without its newline.
        """
        with self._lock:
            self._pending.append(line + "\n")
        self.flush()

    def flush(self) -> None:
        """Write what is queued now, or at the start of the running loop's next turn."""
        try:
            loop = asyncio.get_running_loop()  # a running loop is never closed
        except RuntimeError:  # no loop runs in this thread
            loop = None
        if loop is None:
            self.drain()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.drain)

    def drain(self) -> None:
        """Write and flush everything queued."""
        with self._lock:
            self._scheduled = False
            if not self._pending:
                return
            text = "".join(self._pending)
            self._pending.clear()
            self.stream.write(text)
            self.stream.flush()


def _batchable(stream: TextIO) -> bool:
    """Whether ``stream`` is an operating-system file (stdout, a pipe, a file), where
    batching saves a system call per line; in-memory streams are written as they are."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


_BATCHED: dict[int, LoopBatchedStream] = {}


def output(stream: TextIO, batch: bool) -> TextIO:
    """Where log lines for ``stream`` go: ``stream`` itself, or (``batch``, and an
    operating-system file) the one :class:`LoopBatchedStream` wrapping it.

    Args:
        stream: the stream given to ``configure_logging``.
        batch: whether to batch writes where that saves system calls.
    """
    if not batch or not _batchable(stream):
        return stream
    # One wrapper per stream, so configuring twice never splits one stream's order.
    wrapper = _BATCHED.get(id(stream))
    if wrapper is None or wrapper.stream is not stream:
        wrapper = _BATCHED[id(stream)] = LoopBatchedStream(stream)
    return wrapper  # type: ignore[return-value]  # quacks as the text stream WriteLogger uses
