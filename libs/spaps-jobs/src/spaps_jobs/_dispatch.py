"""Publish outbox messages as Celery tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kombu.exceptions import OperationalError

from ._errors import BrokerUnavailableError
from ._outbox import OutboxMessage

__all__ = ["MESSAGE_ID_HEADER", "TOPIC_HEADER", "CeleryDispatcher"]

MESSAGE_ID_HEADER = "spaps_message_id"
"""Celery message header carrying the outbox message id (also used as the task id)."""
TOPIC_HEADER = "spaps_topic"
"""Celery message header carrying the outbox topic."""
HEADERS_HEADER = "spaps_headers"


class CeleryDispatcher:
    """A relay ``dispatch`` that sends each message as a Celery task.

    The task is called as ``task(payload)``; its task id is the message id and the
    headers ``spaps_message_id``, ``spaps_topic`` and ``spaps_headers`` (the event's own
    headers) travel with it, so consumers dedupe with :class:`~spaps_jobs.Inbox`. A batch
    is published over one producer (one broker connection).

    Args:
        app: The Celery app to publish with.
        routes: Topic -> task name. Topics not listed are sent to the task named like
            the topic.
        queue: Queue to publish to (default: the task's routing / default queue).
    """

    def __init__(
        self,
        app: Any,
        *,
        routes: Mapping[str, str] | None = None,
        queue: str | None = None,
    ) -> None:
        if not hasattr(app, "send_task"):
            raise TypeError("app must be a Celery application")
        self.app = app
        self.routes = dict(routes or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.routes.items()):
            raise TypeError("routes must map topic strings to task names")
        self.queue = queue

    def task_name(self, topic: str) -> str:
        """The task a topic is routed to."""
        return self.routes.get(topic, topic)

    def __call__(self, messages: Sequence[OutboxMessage]) -> None:
        """Publish ``messages``; raise :class:`BrokerUnavailableError` if the broker is down."""
        options: dict[str, Any] = {}
        if self.queue is not None:
            options["queue"] = self.queue
        try:
            with self.app.producer_or_acquire() as producer:
                for message in messages:
                    self.app.send_task(
                        self.task_name(message.topic),
                        args=(message.payload,),
                        task_id=message.id,
                        producer=producer,
                        headers={
                            MESSAGE_ID_HEADER: message.id,
                            TOPIC_HEADER: message.topic,
                            HEADERS_HEADER: dict(message.headers),
                        },
                        **options,
                    )
        except OperationalError as exc:
            raise BrokerUnavailableError(f"could not publish to the broker: {exc}") from exc
