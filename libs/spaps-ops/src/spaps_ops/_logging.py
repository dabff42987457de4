"""Logging: :func:`configure_logging` (``_log_config``), the direct writer of
``info`` lines for bound loggers of its JSON chain, and fields bound per request.

The direct writer assembles exactly the bytes the chain would write, from what
``_log_config`` set up and keeps (processors, the ``WriteLogger``, the stream) and the
context bound through structlog's public contextvars functions.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
from collections.abc import Container, Mapping
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars, reset_contextvars

from ._log_config import Chain, ChainBound, configure_logging
from ._log_stream import LoopBatchedStream

__all__ = [
    "BoundField",
    "InfoLineWriter",
    "LoopBatchedStream",
    "configure_logging",
    "structlog_var",
]


#: Fields :class:`InfoLineWriter` leaves to structlog when bound in contextvars: the
#: level/timestamp step would overwrite them in place, ``exc_info`` needs formatting.
_SLOW_CONTEXT_KEYS = frozenset({"level", "timestamp", "exc_info"})


class InfoLineWriter:
    """Writes ``info`` lines exactly as :func:`configure_logging`'s JSON chain does, for a
    bound logger built from that chain, without structlog's per-call machinery.

    The line is assembled from pre-encoded pieces: the keys, in structlog's order (call
    fields, ``event``, contextvars not already present, ``level``, ``timestamp``), the
    values through the same C string encoder or, for anything but strings, the same
    JSON encoder; then it goes through the chain's own ``WriteLogger`` (same lock, same
    flush per line). :meth:`write` returns ``False`` for what it leaves to structlog
    (contextvars named ``level``, ``timestamp`` or ``exc_info``).

    Args:
        chain: what :func:`configure_logging` set up for the bound logger.
    """

    def __init__(self, chain: Chain) -> None:
        out = chain.logger
        self._msg = out.msg
        # Behind a LoopBatchedStream, queue the line directly: WriteLogger.msg would only
        # take its lock to call the stream's write and flush, which take their own.
        stream = chain.stream
        self._emit = stream.write_line if isinstance(stream, LoopBatchedStream) else out.msg
        self._now = chain.stamp.now
        self._encode = chain.render.encode
        self._string = json.encoder.encode_basestring
        #: Bound field name -> its encoded ``,"key":``; ``""`` for the keys left to
        #: structlog (``_SLOW_CONTEXT_KEYS``), ``None`` for ``event`` (never written).
        self._keys: dict[str, str | None] = {}

    @classmethod
    def for_logger(cls, logger: Any) -> InfoLineWriter | None:
        """A writer for ``logger`` when it is a bound logger of :func:`configure_logging`'s
        JSON chain that writes ``info`` lines with no bound fields, else ``None``.

        Args:
            logger: the bound logger (not the lazy proxy ``get_logger`` returns).
        """
        if not isinstance(logger, ChainBound):  # not built by configure_logging(json=True)
            return None
        chain = logger.spaps_chain
        if (
            chain is None
            or structlog.get_context(logger)
            or not logger.is_enabled_for(logging.INFO)
        ):
            return None
        return cls(chain)

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
        """The fields bound in structlog's contextvars, encoded as ``,"key":value``
        each, skipping ``event`` and the call's own fields (``own``: setdefault, the
        call's value wins); ``None`` when one of them needs structlog (see
        ``_SLOW_CONTEXT_KEYS``)."""
        bound = ""
        keys = self._keys
        string = self._string
        for key, value in get_contextvars().items():  # in merge_contextvars' order
            try:
                encoded = keys[key]
            except KeyError:
                encoded = self._key_of(key)
                if len(keys) < _MAX_KEYS:  # code that makes field names on the fly: no cache
                    keys[key] = encoded
            if encoded is None or key in own:
                continue
            if not encoded:
                return None
            bound += encoded + (string(value) if type(value) is str else self._value(value))
        return bound

    def _key_of(self, key: str) -> str | None:
        """What :meth:`_bound` writes before a bound field's value: ``None`` for
        ``event`` (the call's event always wins), ``""`` for the keys left to structlog
        (``_SLOW_CONTEXT_KEYS``), else the encoded ``,"key":``.

        The table holds one entry per field name seen (a few per process), up to
        ``_MAX_KEYS``."""
        if key == "event":
            return None
        return "" if key in _SLOW_CONTEXT_KEYS else f",{self._string(key)}:"

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


#: How many bound field names :class:`InfoLineWriter` remembers the encoded keys of.
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


class BoundField:
    """One field of structlog's context-local context, set and reset per request.

    ``set`` binds the field as ``bind_contextvars`` does (it is that call) and returns
    the tokens to pass to ``reset``, which restores what was bound before; every log line
    written in between carries the field, and ``clear_contextvars()`` clears it.

    Args:
        key: the bound field's name.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def set(self, value: Any) -> Mapping[str, contextvars.Token[Any]]:
        """Bind the field to ``value`` in the current context.

        Args:
            value: the field's value.
        """
        return bind_contextvars(**{self.key: value})

    def reset(self, tokens: Mapping[str, contextvars.Token[Any]]) -> None:
        """Undo the :meth:`set` that returned ``tokens``.

        Args:
            tokens: what :meth:`set` returned.
        """
        reset_contextvars(**tokens)

    def get(self) -> Any:
        """The field's value in the current context, ``None`` when it is not bound."""
        return get_contextvars().get(self.key)


def structlog_var(key: str) -> BoundField:
    """The field ``key`` of structlog's context-local context, for code that binds it on
    every request (the request id); see :class:`BoundField`.

    Args:
        key: the bound field's name.
    """
    return BoundField(key)
