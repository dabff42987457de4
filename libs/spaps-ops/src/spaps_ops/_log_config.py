"""structlog configuration: one JSON object per line, bound context from contextvars.

Everything the direct line writer (``_logging.InfoLineWriter``) relies on is made and
kept here, through structlog's public configuration: the processor list, the one
``WriteLogger`` the logger factory hands out, and a wrapper class that notes, for each
bound logger it builds, whether that logger writes through exactly this chain.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TextIO

import structlog
from structlog.typing import Context, Processor, WrappedLogger

from ._log_render import JsonLines, LevelAndTimestamp
from ._log_stream import output

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class Chain:
    """What one :func:`configure_logging` call with ``json=True`` hands structlog.

    Args:
        stream: where lines go (the caller's stream or its ``LoopBatchedStream``).

    Attributes:
        stream: as given.
        stamp: the level-and-timestamp processor.
        render: the JSON processor.
        processors: the processor list given to structlog; every bound logger built
            from this configuration holds this very list.
        logger: the ``WriteLogger`` on ``stream`` that :meth:`factory` hands out to
            every bound logger of this configuration.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.stamp = LevelAndTimestamp()
        self.render = JsonLines()
        self.processors: list[Processor] = [
            structlog.contextvars.merge_contextvars,
            self.stamp,
            self.render,
        ]
        self.logger = structlog.WriteLogger(stream)

    def factory(self, *args: Any) -> structlog.WriteLogger:
        """structlog's ``logger_factory``: the chain's one ``WriteLogger`` (they hold no
        state but the stream and its lock, which structlog shares per stream anyway).

        Args:
            args: what ``structlog.get_logger`` passes on (not used, as by
                ``WriteLoggerFactory``).
        """
        return self.logger


class ChainBound(structlog.BoundLoggerBase):
    """Base of the wrapper classes :func:`configure_logging` builds for a :class:`Chain`
    (one per chain, on top of structlog's filtering bound logger of the level).

    structlog builds bound loggers through the wrapper class's constructor
    (``wrapper_class(logger, processors=..., context=...)``, and ``bind`` likewise); this
    one records, once per bound logger, whether it was handed the chain's own processor
    list and ``WriteLogger``. A later ``structlog.configure`` that swaps either leaves
    ``spaps_chain`` unset on the loggers built after it.
    """

    #: Set on each subclass :func:`_wrapper_class` builds.
    chain: ClassVar[Chain]
    #: From structlog's filtering bound logger, the other base of each subclass (only
    #: declared here).
    is_enabled_for: Callable[[int], bool]

    def __init__(
        self, logger: WrappedLogger, processors: Iterable[Processor], context: Context
    ) -> None:
        super().__init__(logger, processors, context)
        chain = self.chain
        #: The chain this logger writes through exactly, else ``None``.
        self.spaps_chain = (
            chain if logger is chain.logger and processors is chain.processors else None
        )


def _wrapper_class(chain: Chain, level: int) -> type[Any]:
    """structlog's filtering bound logger for ``level``, as a :class:`ChainBound` of
    ``chain``."""
    filtering = structlog.make_filtering_bound_logger(level)
    return type(f"Spaps{filtering.__name__}", (ChainBound, filtering), {"chain": chain})


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
    if level.lower() not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, got {level!r}")
    threshold = LEVELS[level.lower()]
    out = output(stream or sys.stdout, batch_writes)
    if json:
        chain = Chain(out)
        structlog.configure(
            processors=chain.processors,
            wrapper_class=_wrapper_class(chain, threshold),
            logger_factory=chain.factory,
            cache_logger_on_first_use=True,
        )
    else:
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                LevelAndTimestamp(),
                structlog.dev.ConsoleRenderer(colors=False),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(threshold),
            logger_factory=structlog.WriteLoggerFactory(file=out),
            cache_logger_on_first_use=True,
        )
    # Libraries logging through the stdlib (uvicorn, sqlalchemy) keep their own handlers;
    # only make sure the root level matches.
    logging.getLogger().setLevel(threshold)
