"""DeadLetterStore: add, list (filters), get, requeue."""

from __future__ import annotations

import pytest
from celery.signals import before_task_publish
from prometheus_client import CollectorRegistry
from spaps_jobs import DeadLetterNotFoundError, DeadLetterStore, JobsSettings, create_celery_app
from sqlalchemy.engine import Engine


@pytest.fixture
def store(sqlite_engine: Engine) -> DeadLetterStore:
    return DeadLetterStore(sqlite_engine)


def _add(store: DeadLetterStore, task: str, *args: object) -> int:
    return store.add(
        task_name=task,
        task_id=f"id-{task}",
        args=list(args),
        kwargs={},
        error="E()",
        traceback="tb",
        attempts=2,
        headers={"spaps_message_id": "m-1"},
        queue="q1",
    )


def test_list_is_newest_first_and_filters(store: DeadLetterStore) -> None:
    first = _add(store, "a.one", 1)
    second = _add(store, "b.two", 2)
    assert [d.id for d in store.list()] == [second, first]
    assert [d.id for d in store.list(task_name="a.one")] == [first]
    assert [d.id for d in store.list(limit=1)] == [second]


def test_unserialisable_arguments_are_kept_as_text(store: DeadLetterStore) -> None:
    letter = store.get(_add(store, "a.one", 1, object()))
    assert letter.args[0] == 1
    assert letter.args[1].startswith("<object object at")


def test_get_unknown_id(store: DeadLetterStore) -> None:
    with pytest.raises(DeadLetterNotFoundError, match="42"):
        store.get(42)
    assert DeadLetterNotFoundError.status == 404


def test_requeue_sends_the_task_again_and_marks_it(store: DeadLetterStore) -> None:
    app = create_celery_app(
        JobsSettings(broker_url="memory://", result_backend=None, dead_letter_url=None),
        registry=CollectorRegistry(),
    )
    letter_id = _add(store, "a.one", 7)
    sent: list[dict[str, object]] = []

    def capture(
        sender: str = "",
        body: object = None,
        headers: dict[str, object] | None = None,
        routing_key: str = "",
        **_: object,
    ) -> None:
        sent.append({"task": sender, "body": body, "headers": headers, "queue": routing_key})

    before_task_publish.connect(capture, weak=False)
    try:
        task_id = store.requeue(letter_id, app)
    finally:
        before_task_publish.disconnect(capture)
    [message] = sent
    assert message["task"] == "a.one"
    assert message["queue"] == "q1"
    headers = message["headers"]
    assert isinstance(headers, dict)
    assert headers["id"] == task_id
    assert headers["spaps_message_id"] == "m-1"
    assert message["body"] == (
        [7],
        {},
        {"callbacks": None, "errbacks": None, "chain": None, "chord": None},
    )
    assert store.list() == []
    letter = store.list(include_requeued=True)[0]
    assert letter.requeued_at is not None
