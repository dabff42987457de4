"""Inbox: consumer-side dedupe so at-least-once delivery has an exactly-once effect."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import structlog

from ._dedupe import DedupeStore
from ._dispatch import MESSAGE_ID_HEADER
from ._errors import MessageInProgressError
from ._metrics import InboxMetrics
from ._outbox import Confirm

__all__ = ["Inbox", "message_id_of"]

P = ParamSpec("P")
T = TypeVar("T")

_log = structlog.get_logger("spaps_jobs.inbox")


def message_id_of(request: Any) -> str:
    """The message id of a Celery task request: the outbox header, else the task id.

    Args:
        request: ``task.request`` of a running Celery task.
    """
    value = request.get(MESSAGE_ID_HEADER) if hasattr(request, "get") else None
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(MESSAGE_ID_HEADER)
    return str(value or request.id)


class Inbox:
    """Process each message id at most once in effect.

    :meth:`process` claims the id with a lease, runs the handler, then marks the id
    done for ``ttl`` seconds: a redelivery within ``ttl`` is skipped. If the handler
    raises, the claim is released so the retry runs it; if the consumer dies, the lease
    expires and the redelivery runs it. Choose ``ttl`` longer than the longest
    redelivery window of your broker and outbox (days, not minutes).

    Args:
        store: A :class:`~spaps_jobs.DedupeStore` (SQL or Redis).
        namespace: Prefix of the keys, one per consumer (two consumers of the same
            message each process it once).
        lease: Seconds a claim protects an in-progress message (longer than the handler).
        ttl: Seconds a processed id is remembered.
        confirm: Called with the message id once it is recorded (first delivery or
            duplicate), e.g. ``outbox.confirmer(engine)``: the outbox relay then stops
            re-sending it. A failing call is logged, not raised: the relay sends the
            message again and the duplicate confirms it.
        metrics: Counts processed and duplicate messages (default: global registry).

    .. versionchanged:: 0.3.0 ``confirm`` and ``metrics``.
    """

    def __init__(
        self,
        store: DedupeStore,
        *,
        namespace: str = "inbox",
        lease: float = 300.0,
        ttl: float = 7 * 24 * 3600.0,
        confirm: Confirm | None = None,
        metrics: InboxMetrics | None = None,
    ) -> None:
        if not isinstance(store, DedupeStore):
            raise TypeError("store must implement DedupeStore (claim/get/complete/release)")
        if not isinstance(namespace, str) or not namespace:
            raise ValueError("namespace must be a non-empty string")
        if not lease > 0 or not ttl > 0:
            raise ValueError("lease and ttl must be positive")
        self.store = store
        self.namespace = namespace
        self.lease = float(lease)
        self.ttl = float(ttl)
        if confirm is not None and not callable(confirm):
            raise TypeError("confirm must be callable")
        self.confirm = confirm
        self.metrics = metrics if metrics is not None else InboxMetrics.default()

    def _key(self, message_id: str) -> str:
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("message_id must be a non-empty string")
        return f"{self.namespace}:{message_id}"

    def seen(self, message_id: str) -> bool:
        """Whether ``message_id`` was processed (and is still remembered)."""
        record = self.store.get(self._key(message_id))
        return record is not None and record.done

    def process(
        self, message_id: str, handler: Callable[P, object], *args: P.args, **kwargs: P.kwargs
    ) -> bool:
        """Run ``handler(*args, **kwargs)`` unless ``message_id`` was already processed.

        Returns:
            ``True`` if the handler ran, ``False`` for a duplicate.

        Raises:
            MessageInProgressError: Another consumer holds the claim right now (retry
                later: with a Celery task, declare it in ``retry_on``).
        """
        key = self._key(message_id)
        if not self.store.claim(key, self.lease):
            record = self.store.get(key)
            if record is not None and record.done:
                _log.info("inbox.duplicate", message_id=message_id, namespace=self.namespace)
                self.metrics.messages.labels(self.namespace, "duplicate").inc()
                self._confirm(message_id)
                return False
            if record is not None or not self.store.claim(key, self.lease):
                raise MessageInProgressError(f"message {message_id!r} is being processed")
        try:
            handler(*args, **kwargs)
        except BaseException:
            self.store.release(key)
            raise
        self.store.complete(key, b"", ttl=self.ttl)
        self.metrics.messages.labels(self.namespace, "processed").inc()
        self._confirm(message_id)
        return True

    def _confirm(self, message_id: str) -> None:
        if self.confirm is None:
            return
        try:
            self.confirm(message_id)
        except Exception as exc:  # the relay re-sends; the duplicate confirms it then
            _log.warning("inbox.confirm_failed", message_id=message_id, error=repr(exc))

    def consumer(self, func: Callable[..., T]) -> Callable[..., T | None]:
        """Decorate a *bound* Celery task body so each message id runs once in effect.

        The first argument must be the task (``@app.task(bind=True)``); duplicates
        return ``None`` without calling ``func``.
        """

        @functools.wraps(func)
        def wrapper(task: Any, *args: Any, **kwargs: Any) -> T | None:
            box: list[T] = []
            ran = self.process(
                message_id_of(task.request), lambda: box.append(func(task, *args, **kwargs))
            )
            return box[0] if ran else None

        return wrapper
