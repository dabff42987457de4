"""CeleryDispatcher: what a published outbox message looks like to Celery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import before_task_publish
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    MESSAGE_ID_HEADER,
    TOPIC_HEADER,
    CeleryDispatcher,
    JobsCelery,
    JobsSettings,
    OutboxMessage,
    create_celery_app,
)


@pytest.fixture
def app() -> JobsCelery:
    return create_celery_app(
        JobsSettings(broker_url="memory://", result_backend=None, dead_letter_url=None),
        registry=CollectorRegistry(),
    )


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def capture(
        sender: str = "", body: Any = None, headers: Any = None, routing_key: str = "", **_: Any
    ) -> None:
        sent.append({"task": sender, "body": body, "headers": headers, "queue": routing_key})

    before_task_publish.connect(capture, weak=False)
    yield sent
    before_task_publish.disconnect(capture)


def test_messages_become_tasks_keyed_by_message_id(
    app: JobsCelery, published: list[dict[str, Any]]
) -> None:
    dispatcher = CeleryDispatcher(app, routes={"user.created": "emails.welcome"}, queue="mail")
    dispatcher(
        [
            OutboxMessage(id="m-1", topic="user.created", payload={"u": 1}, headers={"t": "a"}),
            OutboxMessage(id="m-2", topic="billing.run", payload=[1, 2]),
        ]
    )
    first, second = published
    assert (first["task"], first["queue"]) == ("emails.welcome", "mail")
    assert first["headers"]["id"] == "m-1"
    assert first["headers"][MESSAGE_ID_HEADER] == "m-1"
    assert first["headers"][TOPIC_HEADER] == "user.created"
    assert first["headers"]["spaps_headers"] == {"t": "a"}
    assert list(first["body"][0]) == [{"u": 1}]
    assert second["task"] == "billing.run"  # unlisted topic: task named like the topic
    assert list(second["body"][0]) == [[1, 2]]
    assert dispatcher.task_name("user.created") == "emails.welcome"


def test_dispatcher_validates(app: JobsCelery) -> None:
    with pytest.raises(TypeError, match="Celery application"):
        CeleryDispatcher(object())
    with pytest.raises(TypeError, match="routes"):
        CeleryDispatcher(app, routes={"a": 1})  # type: ignore[dict-item]  # wrong on purpose


def test_bare_job_decorator(app: JobsCelery) -> None:
    @app.job
    def plain(x: int) -> int:
        return x + 1

    assert plain.name.endswith("plain")
    assert plain.apply(args=(1,)).get() == 2
