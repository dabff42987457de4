"""structlog configuration: one JSON object per line, request id bound via contextvars."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


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
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors.append(structlog.processors.format_exc_info)
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level.lower()]),
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Libraries logging through the stdlib (uvicorn, sqlalchemy) keep their own handlers;
    # only make sure the root level matches.
    logging.getLogger().setLevel(_LEVELS[level.lower()])
