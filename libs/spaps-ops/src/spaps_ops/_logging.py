"""structlog configuration: one JSON object per line, request id bound via contextvars."""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import json
import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Container, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class _LevelAndTimestamp:
    """``level`` (the method name, like ``add_log_level``) and ``timestamp`` (ISO 8601,
    UTC, microseconds, like ``TimeStamper(fmt="iso", utc=True)``) in one step, formatting
    the date-and-seconds part once per second: this runs on every access-log line."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> Any:
        event_dict["level"] = "warning" if name == "warn" else name
        event_dict["timestamp"] = self.now()
        return event_dict

    def now(self) -> str:
        """The current time as the ``timestamp`` field shows it."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((now - second) * 1e6):06d}Z"


def _fallback(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)  # dates and times read as ISO 8601
    return isoformat() if callable(isoformat) else repr(value)


def _make_encoder() -> Callable[[Any], str]:
    """A compact JSON encoder built once.

    ``JSONEncoder.encode`` builds a new C encoder on every call, which is about half the
    cost of encoding a log line; CPython's C encoder is built once here instead, with the
    pure-Python encoder as the fallback where it is missing or its signature differs.
    """
    fallback = json.JSONEncoder(default=_fallback, separators=(",", ":"), ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            encoder = make(
                None, _fallback, json.encoder.encode_basestring, None, ":", ",",
                False, False, True,
            )  # fmt: skip

            def encode(value: Any) -> str:
                return "".join(encoder(value, 0))

            if encode({"a": [1, 2.5, None, True, "é"]}) == fallback.encode(
                {"a": [1, 2.5, None, True, "é"]}
            ):
                return encode
        except TypeError:  # a Python whose C encoder takes other arguments
            pass
    return fallback.encode


class _JsonLines:
    """Render the event dict as one compact JSON object (tracebacks formatted first)."""

    def __init__(self) -> None:
        self.encode = _make_encoder()

    def __call__(self, logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> str:
        if "exc_info" in event_dict:
            event_dict = structlog.processors.format_exc_info(logger, name, event_dict)
        return self.encode(event_dict)


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


def configure_logging(
    *,
    level: str = "info",
    json: bool = True,
    stream: TextIO | None = None,
    batch_writes: bool = True,
) -> None:
    """Configure structlog (process-wide) for services.

    Every line carries ``timestamp`` (ISO 8601, UTC), ``level``, ``event`` and whatever
    is bound in structlog's contextvars (``request_id`` while a request is handled).
    ``create_app`` calls this unless told not to.

    Args:
        level: the lowest level written (``debug`` .. ``critical``).
        json: JSON lines (production) or structlog's console renderer (development).
        stream: where lines go; default ``sys.stdout``.
        batch_writes: write the lines of one event-loop turn together when ``stream``
            is an operating-system file (stdout, a pipe, a file): one write per
            event-loop turn instead of one per line.
    """
    if level.lower() not in _LEVELS:
        raise ValueError(f"level must be one of {sorted(_LEVELS)}, got {level!r}")
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        _LevelAndTimestamp(),
        _JsonLines() if json else structlog.dev.ConsoleRenderer(colors=False),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level.lower()]),
        logger_factory=structlog.WriteLoggerFactory(
            file=_output(stream or sys.stdout, batch_writes)
        ),
        cache_logger_on_first_use=True,
    )
    # Libraries logging through the stdlib (uvicorn, sqlalchemy) keep their own handlers;
    # only make sure the root level matches.
    logging.getLogger().setLevel(_LEVELS[level.lower()])


_BATCHED: dict[int, LoopBatchedStream] = {}


def _output(stream: TextIO, batch: bool) -> TextIO:
    if not batch or not _batchable(stream):
        return stream
    # One wrapper per stream, so configuring twice never splits one stream's order.
    wrapper = _BATCHED.get(id(stream))
    if wrapper is None or wrapper.stream is not stream:
        wrapper = _BATCHED[id(stream)] = LoopBatchedStream(stream)
    return wrapper  # type: ignore[return-value]  # quacks as the text stream WriteLogger uses


#: Fields :class:`InfoLineWriter` leaves to structlog when bound in contextvars: the
#: level/timestamp step would overwrite them in place, ``exc_info`` needs formatting.
_SLOW_CONTEXT_KEYS = frozenset({"level", "timestamp", "exc_info"})
_PREFIX = structlog.contextvars.STRUCTLOG_KEY_PREFIX
_PREFIX_LEN = len(_PREFIX)


class InfoLineWriter:
    """Writes ``info`` lines exactly as :func:`configure_logging`'s JSON chain does, for a
    bound logger built from that chain, without structlog's per-call machinery.

    The line is assembled from pre-encoded pieces: the keys, in structlog's order (call
    fields, ``event``, contextvars not already present, ``level``, ``timestamp``), the
    values through the same C string encoder or, for anything but strings, the same
    JSON encoder; then it goes through the bound logger's own ``WriteLogger`` (same lock,
    same flush per line). :meth:`write` returns ``False`` for what it leaves to
    structlog (contextvars named ``level``, ``timestamp`` or ``exc_info``).
    """

    def __init__(self, out: Any, stamp: _LevelAndTimestamp, render: _JsonLines) -> None:
        self._msg = out.msg
        # Behind a LoopBatchedStream, queue the line directly: WriteLogger.msg would only
        # take its lock to call the stream's write and flush, which take their own.
        stream = getattr(out, "_file", None)
        self._emit = stream.write_line if isinstance(stream, LoopBatchedStream) else out.msg
        self._now = stamp.now
        self._encode = render.encode
        self._string = json.encoder.encode_basestring
        #: Context variable -> its field name and encoded key (structlog's), or ``None``.
        self._keys: dict[contextvars.ContextVar[Any], tuple[str, str | None] | None] = {}

    @classmethod
    def for_logger(cls, logger: Any) -> InfoLineWriter | None:
        """A writer for ``logger`` when it is a bound logger of :func:`configure_logging`'s
        JSON chain that writes ``info`` lines with no bound fields, else ``None``.

        Args:
            logger: the bound logger (not the lazy proxy ``get_logger`` returns).
        """
        processors = getattr(logger, "_processors", None)
        out = getattr(logger, "_logger", None)
        enabled = getattr(logger, "is_enabled_for", None)
        if (
            not isinstance(processors, list | tuple)
            or len(processors) != 3  # the chain configure_logging builds
            or processors[0] is not structlog.contextvars.merge_contextvars
            or not isinstance(processors[1], _LevelAndTimestamp)
            or not isinstance(processors[2], _JsonLines)
            or not isinstance(out, structlog.WriteLogger)
            or getattr(logger, "_context", None)
            or not callable(enabled)
            or not enabled(logging.INFO)
        ):
            return None
        return cls(out, processors[1], processors[2])

    def encode_fields(self, fields: Mapping[str, Any]) -> str:
        """``fields`` as the JSON members this writer puts at the start of a line
        (``"key":value,`` each), to pass to :meth:`write_access` as ``head``.

        Args:
            fields: leading fields (keys are plain identifiers).
        """
        return "".join(f'"{key}":{self._value(value)},' for key, value in fields.items())

    def _value(self, value: Any) -> str:
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is int:
            return int.__repr__(value)
        if kind is float and math.isfinite(value):
            return float.__repr__(value)  # what the JSON encoder writes for finite floats
        return self._encode(value)

    def write(self, event: str, fields: Mapping[str, Any]) -> bool:
        """Write one ``info`` line, or return ``False`` to leave it to structlog.

        Args:
            event: the event name.
            fields: the call's fields (keys are plain identifiers).
        """
        bound = self._bound(fields)
        if bound is None:
            return False
        value_of = self._value
        parts = ["{"]
        for key, value in fields.items():
            parts.append(f'"{key}":')
            parts.append(value_of(value))
            parts.append(",")
        parts.append('"event":')
        parts.append(self._string(event))
        parts.append(bound)
        parts.append(',"level":"info","timestamp":"')
        parts.append(self._now())
        parts.append('"}')
        self._msg("".join(parts))
        return True

    def _bound(self, own: Container[str]) -> str | None:
        """The fields bound in structlog's context variables, encoded as
        ``,"key":value`` each, skipping ``event`` and the call's own fields (``own``:
        setdefault, the call's value wins); ``None`` when one of them needs structlog
        (see ``_SLOW_CONTEXT_KEYS``)."""
        bound = ""
        keys = self._keys
        string = self._string
        for var, value in contextvars.copy_context().items():
            if value is Ellipsis:  # structlog's mark of a cleared field
                continue
            try:
                entry = keys[var]
            except KeyError:
                entry = self._key_of(var)
                if len(keys) < _MAX_KEYS:  # code that makes variables on the fly: no cache
                    keys[var] = entry
            if entry is None:
                continue
            key, encoded = entry
            if key in own:
                continue
            if encoded is None:
                return None
            bound += encoded + (string(value) if type(value) is str else self._value(value))
        return bound

    def _key_of(self, var: contextvars.ContextVar[Any]) -> tuple[str, str | None] | None:
        """What :meth:`_bound` needs of a context variable: ``None`` when it never shows
        on a line (not structlog's, or its ``event``), else the field name and its encoded
        ``,"key":`` (``None`` for the keys left to structlog, ``_SLOW_CONTEXT_KEYS``).

        Context variables usually live as long as the code that made them, so the table
        holds one entry per variable seen (a few per process), up to ``_MAX_KEYS``."""
        name = var.name
        if not name.startswith(_PREFIX):
            return None
        key = name[_PREFIX_LEN:]
        if key == "event":  # the call's event always wins
            return None
        return key, None if key in _SLOW_CONTEXT_KEYS else f",{self._string(key)}:"

    def write_access(
        self, head: str, duration_ms: float, user_id: str | None, tenant_id: str | None
    ) -> bool:
        """:meth:`write` of an ``http_request`` line, specialised for the access log.

        The same bytes as ``write("http_request", {"method": ..., "route": ...,
        "status": ..., "duration_ms": ..., "user_id": ..., "tenant_id": ...})`` with the
        ``None`` fields left out, where ``head`` holds the first three, encoded.

        Args:
            head: ``encode_fields({"method": ..., "route": ..., "status": ...})``.
            duration_ms: the request's duration, written as ``round(duration_ms, 3)``.
            user_id: the caller, when known.
            tenant_id: the tenant, when known.
        """
        if 0.0 <= duration_ms < _PLAIN_MS:
            # The digits of round(duration_ms, 3), without its second conversion and the
            # shortest-repr search: below _PLAIN_MS the fixed form stripped of trailing
            # zeros is that repr (see test_duration_text_is_the_rounded_floats_repr).
            millis = f"{duration_ms:.3f}".rstrip("0")
            if millis[-1] == ".":
                millis += "0"
        else:
            millis = self._value(round(duration_ms, 3))
        if user_id is None and tenant_id is None:
            line = f'{{{head}"duration_ms":{millis},"event":"http_request"'
            own = _ACCESS_BASE
        else:
            string = self._string
            line = f'{{{head}"duration_ms":{millis},'
            if user_id is not None:
                line += f'"user_id":{string(user_id)},'
            if tenant_id is not None:
                line += f'"tenant_id":{string(tenant_id)},'
            line += '"event":"http_request"'
            own = _ACCESS_OWN[user_id is not None, tenant_id is not None]
        bound = self._bound(own)
        if bound is None:
            return False
        self._emit(f'{line}{bound},"level":"info","timestamp":"{self._now()}"}}')
        return True


#: How many context variables :class:`InfoLineWriter` remembers the keys of.
_MAX_KEYS = 1024
#: Durations (ms) below this are written from their fixed three-decimal form: doubles
#: there are spaced far closer than 0.001, so that form is also the shortest repr.
_PLAIN_MS = 1e12
#: The call's own fields of an access-log line, by (has user_id, has tenant_id).
_ACCESS_BASE = frozenset({"method", "route", "status", "duration_ms"})
_ACCESS_OWN = {
    (False, False): _ACCESS_BASE,
    (True, False): _ACCESS_BASE | {"user_id"},
    (False, True): _ACCESS_BASE | {"tenant_id"},
    (True, True): _ACCESS_BASE | {"user_id", "tenant_id"},
}


def structlog_var(key: str) -> contextvars.ContextVar[Any]:
    """The context variable behind ``structlog.contextvars.bind_contextvars(key=...)``.

    Setting it binds ``key`` exactly as ``bind_contextvars`` does (structlog keeps one
    ``ContextVar`` per key, named with ``STRUCTLOG_KEY_PREFIX``), without the generic
    per-call bookkeeping; middlewares on the hot path set and reset it directly.

    Args:
        key: the bound field's name.
    """

    def find() -> contextvars.ContextVar[Any]:
        # Bind once in a throwaway context, so structlog creates its variable for key.
        structlog.contextvars.bind_contextvars(**{key: None})
        for var in contextvars.copy_context():
            if var.name == _PREFIX + key:
                return var
        raise RuntimeError(f"structlog keeps no context variable for {key!r}")

    return contextvars.Context().run(find)
