"""Inbox: a message id takes effect once, failures and crashes let it run again."""

from __future__ import annotations

import time

import pytest
from spaps_jobs import Inbox, MessageInProgressError, SqlDedupeStore
from sqlalchemy.engine import Engine


@pytest.fixture
def inbox(sqlite_engine: Engine) -> Inbox:
    store = SqlDedupeStore(sqlite_engine)
    store.create_table()
    return Inbox(store, namespace="billing", lease=0.3)


def test_duplicate_is_absorbed(inbox: Inbox) -> None:
    effects: list[int] = []
    assert inbox.process("m1", effects.append, 1) is True
    assert inbox.process("m1", effects.append, 1) is False
    assert effects == [1]
    assert inbox.seen("m1")
    assert not inbox.seen("m2")


def test_failed_handler_releases_the_claim(inbox: Inbox) -> None:
    def fail() -> None:
        raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        inbox.process("m1", fail)
    effects: list[str] = []
    assert inbox.process("m1", effects.append, "ok")
    assert effects == ["ok"]


def test_claim_held_elsewhere_raises_then_expires(inbox: Inbox) -> None:
    assert inbox.store.claim("billing:m1", inbox.lease)  # a consumer that then died
    with pytest.raises(MessageInProgressError):
        inbox.process("m1", lambda: None)
    time.sleep(0.4)
    effects: list[int] = []
    assert inbox.process("m1", effects.append, 1)
    assert effects == [1]


def test_namespaces_are_independent(sqlite_engine: Engine) -> None:
    store = SqlDedupeStore(sqlite_engine)
    store.create_table()
    a, b = Inbox(store, namespace="a"), Inbox(store, namespace="b")
    assert a.process("m", lambda: None)
    assert b.process("m", lambda: None)
    assert not a.process("m", lambda: None)


def test_inbox_validates(sqlite_engine: Engine) -> None:
    store = SqlDedupeStore(sqlite_engine)
    with pytest.raises(TypeError, match="DedupeStore"):
        Inbox(object())  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(ValueError, match="namespace"):
        Inbox(store, namespace="")
    with pytest.raises(ValueError, match="positive"):
        Inbox(store, lease=0)
    with pytest.raises(ValueError, match="message_id"):
        Inbox(store).process("", lambda: None)
