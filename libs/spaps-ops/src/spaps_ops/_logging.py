"""structlog configuration: one JSON object per line, request id bound via contextvars."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
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
        now = time.time()
        second = int(now)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        event_dict["timestamp"] = f"{self._prefix}.{int((now - second) * 1e6):06d}Z"
        return event_dict


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
        self._encode = _make_encoder()

    def __call__(self, logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> str:
        if "exc_info" in event_dict:
            event_dict = structlog.processors.format_exc_info(logger, name, event_dict)
        return self._encode(event_dict)


def configure_logging(
    *, level: str = "info", json: bool = True, stream: TextIO | None = None
) -> None:
    """Configure structlog (process-wide) for services.

    Every line carries ``timestamp`` (ISO 8601, UTC), ``level``, ``event`` and whatever
    is bound in structlog's contextvars (``request_id`` while a request is handled).
    ``create_app`` calls this unless told not to.

    Args:
        level: the lowest level written (``debug`` .. ``critical``).
        json: JSON lines (production) or structlog's console renderer (development).
        stream: where lines go; default ``sys.stdout``.
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
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Libraries logging through the stdlib (uvicorn, sqlalchemy) keep their own handlers;
    # only make sure the root level matches.
    logging.getLogger().setLevel(_LEVELS[level.lower()])
