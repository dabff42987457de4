"""The processors of the JSON chain: level and timestamp in one step, compact JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog


class LevelAndTimestamp:
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


class JsonLines:
    """Render the event dict as one compact JSON object (tracebacks formatted first)."""

    def __init__(self) -> None:
        self.encode = _make_encoder()

    def __call__(self, logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> str:
        if "exc_info" in event_dict:
            event_dict = structlog.processors.format_exc_info(logger, name, event_dict)
        return self.encode(event_dict)
