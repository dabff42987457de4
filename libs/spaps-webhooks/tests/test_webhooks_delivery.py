"""Publishing and delivery against a real receiver process on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import standardwebhooks
from pydantic import BaseModel
from spaps_jobs import OutboxMessage, Relay
from spaps_webhooks import (
    ENDPOINT_DISABLED_EVENT,
    Endpoint,
    InvalidPayloadError,
    RetrySchedule,
    URLGuard,
    Webhooks,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from conftest import Clock

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXRoZS13ZWJob29rLXJlY2VpdmVy"


class ResultReadyV1(BaseModel):
    """A lab result is ready."""

    result_id: int
    patient: str


def relay_into(webhooks: Webhooks) -> int:
    """Run one relay pass that hands every outbox message to the fan-out."""

    def dispatch(messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            webhooks.fan_out(message.payload)

    return Relay(webhooks.outbox, webhooks.engine, dispatch).run_once()


def deliveries(webhooks: Webhooks, owner: str = "clinic-1") -> list[Any]:
    return webhooks.history.deliveries(owner)


def drain(webhooks: Webhooks, clock: Clock, *, rounds: int = 50) -> None:
    """Attempt pending deliveries in this process, moving the clock to each next attempt."""
    d = webhooks.tables.deliveries
    for _ in range(rounds):
        with webhooks.engine.connect() as conn:
            pending = conn.execute(
                select(d.c.id, d.c.next_attempt_at)
                .where(d.c.status == "pending")
                .order_by(d.c.next_attempt_at)
            ).all()
        if not pending:
            return
        clock.current = max(clock.current, pending[0].next_attempt_at)
        for row in pending:
            webhooks.deliver(row.id)
    raise AssertionError(f"deliveries still pending after {rounds} rounds")


@pytest.fixture
def webhooks(make_webhooks: Callable[..., Webhooks], clock: Clock) -> Webhooks:
    wh = make_webhooks(timeout=1.0, now=clock)
    wh.registry.register("result.ready.v1", ResultReadyV1)
    return wh


def test_publish_relay_fan_out_and_deliver(
    webhooks: Webhooks, clock: Clock, start_receiver: Any
) -> None:
    receiver = start_receiver()
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    with Session(webhooks.engine) as session, session.begin():
        message_id = webhooks.publish(
            session, "result.ready.v1", {"result_id": 7, "patient": "p1"}, owner="clinic-1"
        )
    assert relay_into(webhooks) == 1
    drain(webhooks, clock)
    assert receiver.stats()["handled"] == [message_id]
    [attempt] = webhooks.history.attempts("clinic-1", endpoint_id=endpoint.id)
    assert attempt.succeeded
    assert attempt.status_code == 200
    assert attempt.latency_ms is not None
    assert attempt.latency_ms > 0
    assert message_id in (attempt.response_excerpt or "")
    assert deliveries(webhooks)[0].status == "succeeded"


def test_body_is_a_standard_webhooks_envelope(webhooks: Webhooks) -> None:
    record = webhooks.message("result.ready.v1", ResultReadyV1(result_id=1, patient="p"), owner="o")
    body = json.loads(record["body"])
    assert body["type"] == "result.ready.v1"
    assert body["data"] == {"result_id": 1, "patient": "p"}
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None


def test_rolled_back_publish_sends_nothing(webhooks: Webhooks) -> None:
    with Session(webhooks.engine) as session:
        session.begin()
        webhooks.publish(session, "result.ready.v1", {"result_id": 1, "patient": "p"})
        session.rollback()
    assert relay_into(webhooks) == 0


def test_invalid_payload_is_refused_before_the_outbox(webhooks: Webhooks) -> None:
    with Session(webhooks.engine) as session, pytest.raises(InvalidPayloadError) as caught:
        webhooks.publish(session, "result.ready.v1", {"result_id": "not a number"})
    assert caught.value.status == 422
    assert caught.value.extensions is not None
    assert caught.value.extensions["errors"]


def test_event_type_filters_and_owners(webhooks: Webhooks, start_receiver: Any) -> None:
    receiver = start_receiver()
    everything = webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    only_test = webhooks.endpoints.create(
        "clinic-1", receiver.url, event_types=["webhook.test.v1"], secret=SECRET
    )
    other_owner = webhooks.endpoints.create("clinic-2", receiver.url, secret=SECRET)
    record = webhooks.message("result.ready.v1", {"result_id": 1, "patient": "p"}, owner="clinic-1")
    created = webhooks.fan_out(record)
    assert len(created) == 1
    assert [d.endpoint_id for d in deliveries(webhooks)] == [everything.id]
    assert webhooks.history.deliveries("clinic-2") == []
    assert only_test.id
    assert other_owner.id
    # A repeated fan-out (the outbox is at-least-once) creates nothing more.
    assert webhooks.fan_out(record) == []


def test_failure_is_retried_on_schedule_and_logged(
    webhooks: Webhooks, clock: Clock, start_receiver: Any
) -> None:
    receiver = start_receiver()
    receiver.control(mode="flaky", fail_rate=1.0)
    webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("result.ready.v1", {"result_id": 1, "patient": "p"}, owner="clinic-1")
    )
    outcome = webhooks.deliver(delivery_id)
    assert outcome.status == "retrying"
    assert outcome.retry_in is not None
    assert 0.16 <= outcome.retry_in <= 0.24
    assert webhooks.deliver(delivery_id).status == "skipped"  # not due: the clock stands still
    receiver.control(mode="ok")
    drain(webhooks, clock)
    attempts = webhooks.history.attempts("clinic-1", delivery_id=delivery_id)
    assert [a.status_code for a in reversed(attempts)] == [500, 200]
    assert attempts[1].response_excerpt == '{"error":"flaky"}'


def test_exhausted_schedule_fails_the_delivery(
    make_webhooks: Callable[..., Webhooks], clock: Clock, start_receiver: Any
) -> None:
    webhooks = make_webhooks(schedule=RetrySchedule(delays=[0, 5], jitter=0), now=clock)
    receiver = start_receiver()
    receiver.control(mode="flaky", fail_rate=1.0)
    webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="o")
    )
    assert webhooks.deliver(delivery_id).status == "retrying"
    clock.advance(4.9)
    assert webhooks.deliver(delivery_id).status == "skipped"
    clock.advance(0.1)
    assert webhooks.deliver(delivery_id).status == "failed"
    assert webhooks.history.deliveries("o")[0].status == "failed"


def test_retry_after_is_honoured_on_429(
    webhooks: Webhooks, clock: Clock, start_receiver: Any
) -> None:
    receiver = start_receiver()
    receiver.control(mode="throttle", retry_after=120)
    webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("result.ready.v1", {"result_id": 1, "patient": "p"}, owner="clinic-1")
    )
    outcome = webhooks.deliver(delivery_id)
    assert outcome.status == "retrying"
    assert outcome.retry_in == 120
    [delivery] = deliveries(webhooks)
    assert delivery.next_attempt_at == clock() + timedelta(seconds=120)


def test_410_disables_the_endpoint_and_notifies_the_owner(
    make_webhooks: Callable[..., Webhooks], clock: Clock, start_receiver: Any
) -> None:
    disabled: list[tuple[Endpoint, str]] = []
    webhooks = make_webhooks(on_endpoint_disabled=lambda e, r: disabled.append((e, r)), now=clock)
    gone, watcher = start_receiver(), start_receiver()
    gone.control(mode="gone")
    dead = webhooks.endpoints.create("o", gone.url, secret=SECRET)
    webhooks.endpoints.create(
        "o", watcher.url, event_types=[ENDPOINT_DISABLED_EVENT], secret=SECRET
    )
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="o")
    )
    outcome = webhooks.deliver(delivery_id)
    assert outcome.status == "failed"
    assert len(outcome.new_deliveries) == 1
    assert webhooks.endpoints.get("o", dead.id).enabled is False
    assert "410" in (webhooks.endpoints.get("o", dead.id).disabled_reason or "")
    assert [(e.id, e.enabled) for e, _ in disabled] == [(dead.id, False)]
    drain(webhooks, clock)
    assert len(watcher.stats()["handled"]) == 1
    # Later messages skip the disabled endpoint.
    assert (
        webhooks.fan_out(webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="o")) == []
    )


def test_endpoint_failing_too_long_is_disabled(
    make_webhooks: Callable[..., Webhooks], clock: Clock, start_receiver: Any
) -> None:
    webhooks = make_webhooks(disable_after=timedelta(seconds=30), now=clock)
    receiver = start_receiver()
    receiver.control(mode="flaky", fail_rate=1.0)
    endpoint = webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="o")
    )
    assert webhooks.deliver(delivery_id).status == "retrying"
    assert webhooks.endpoints.get("o", endpoint.id).failing_since == clock()
    clock.advance(29)
    assert webhooks.deliver(delivery_id).status == "retrying"  # not failing long enough yet
    clock.advance(1)
    assert webhooks.deliver(delivery_id).status == "failed"
    current = webhooks.endpoints.get("o", endpoint.id)
    assert current.enabled is False
    assert "failing without success" in (current.disabled_reason or "")
    notes = webhooks.history.deliveries("o", status="pending")
    assert notes == []  # no other endpoint subscribed; the message is still logged
    m = webhooks.tables.messages
    with webhooks.engine.connect() as conn:
        types = list(conn.execute(select(m.c.event_type)).scalars())
    assert ENDPOINT_DISABLED_EVENT in types


def test_success_resets_the_failure_streak(
    webhooks: Webhooks, clock: Clock, start_receiver: Any
) -> None:
    receiver = start_receiver()
    receiver.control(mode="flaky", fail_rate=1.0)
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="clinic-1")
    )
    webhooks.deliver(delivery_id)
    assert webhooks.endpoints.get("clinic-1", endpoint.id).failing_since is not None
    receiver.control(mode="ok")
    drain(webhooks, clock)
    assert webhooks.endpoints.get("clinic-1", endpoint.id).failing_since is None


def test_hanging_receiver_times_out(
    make_webhooks: Callable[..., Webhooks], start_receiver: Any
) -> None:
    webhooks = make_webhooks(timeout=0.5)
    receiver = start_receiver()
    receiver.control(mode="hang", hang_seconds=30)
    webhooks.endpoints.create("o", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="o")
    )
    outcome = webhooks.deliver(delivery_id)
    assert outcome.attempt is not None
    assert outcome.attempt.status_code is None
    assert outcome.attempt.error == "timeout after 0.5s (ReadTimeout)"
    assert outcome.status == "retrying"


def test_refused_connection_is_logged_and_retried(webhooks: Webhooks) -> None:
    with socket.socket() as bound:
        # Bound but never listening: the port is ours and every connection is refused.
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        webhooks.endpoints.create("o", f"http://127.0.0.1:{port}/hook", secret=SECRET)
        [delivery_id] = webhooks.fan_out(
            webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="o")
        )
        outcome = webhooks.deliver(delivery_id)
    assert outcome.attempt is not None
    assert outcome.attempt.status_code is None
    assert (outcome.attempt.error or "").startswith("ConnectError: ")
    assert "Connection refused" in (outcome.attempt.error or "")
    assert outcome.status == "retrying"
    assert webhooks.history.deliveries("o")[0].last_error == outcome.attempt.error


def test_redirects_are_not_followed(webhooks: Webhooks, start_receiver: Any) -> None:
    receiver = start_receiver()
    receiver.control(mode="redirect")
    webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="clinic-1")
    )
    outcome = webhooks.deliver(delivery_id)
    assert outcome.status == "retrying"
    assert outcome.attempt is not None
    assert outcome.attempt.status_code == 307
    assert "redirect_followed" not in receiver.stats()


def test_response_body_read_is_capped(webhooks: Webhooks, start_receiver: Any) -> None:
    receiver = start_receiver()
    receiver.control(mode="big")
    webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    [delivery_id] = webhooks.fan_out(
        webhooks.message("webhook.test.v1", {"endpoint_id": "x"}, owner="clinic-1")
    )
    outcome = webhooks.deliver(delivery_id)
    assert outcome.attempt is not None
    assert outcome.attempt.status_code == 500
    assert outcome.attempt.response_excerpt == "x" * 1024


def test_rotation_overlap_sends_both_signatures(webhooks: Webhooks, start_receiver: Any) -> None:
    receiver = start_receiver()
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    rotated = webhooks.rotate_secret("clinic-1", endpoint.id, overlap=timedelta(hours=1))
    assert rotated.secret != SECRET
    assert rotated.rotating_until is not None
    message_id = webhooks.test_fire("clinic-1", endpoint.id).message_id
    [signature] = receiver.stats()["signatures"]
    assert len(signature.split(" ")) == 2
    # Both the old and the new secret verify the same delivery (reference verifier).
    m = webhooks.tables.messages
    with webhooks.engine.connect() as conn:
        body = conn.execute(select(m.c.body).where(m.c.id == message_id)).scalar_one()
    [attempt] = webhooks.history.attempts("clinic-1", message_id=message_id)
    timestamp = int(attempt.started_at.timestamp())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
    for secret in (SECRET, rotated.secret):
        standardwebhooks.Webhook(secret).verify(body, headers)
    # Without overlap only the new secret signs.
    again = webhooks.rotate_secret("clinic-1", endpoint.id, overlap=timedelta(0))
    webhooks.test_fire("clinic-1", endpoint.id)
    last = receiver.stats()["signatures"][-1]
    assert len(last.split(" ")) == 1
    assert again.secret != rotated.secret


def test_test_fire_shows_the_attempt(webhooks: Webhooks, start_receiver: Any) -> None:
    receiver = start_receiver()
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    result = webhooks.test_fire("clinic-1", endpoint.id)
    assert result.attempt is not None
    assert result.attempt.status_code == 200
    assert result.delivery.status == "succeeded"
    assert receiver.stats()["handled"] == [result.message_id]


def test_replay_message_and_since(webhooks: Webhooks, clock: Clock, start_receiver: Any) -> None:
    receiver = start_receiver()
    receiver.control(mode="flaky", fail_rate=1.0)
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=SECRET)
    before = clock()
    first = webhooks.message("result.ready.v1", {"result_id": 1, "patient": "p"}, owner="clinic-1")
    second = webhooks.message("result.ready.v1", {"result_id": 2, "patient": "p"}, owner="clinic-1")
    for record in (first, second):
        [delivery_id] = webhooks.fan_out(record)
        webhooks.deliver(delivery_id)
    # Give up on them (as if the schedule ran out), then the receiver comes back.
    d = webhooks.tables.deliveries
    with webhooks.engine.begin() as conn:
        conn.execute(d.update().values(status="failed", next_attempt_at=None))
    receiver.control(mode="ok")
    replayed = webhooks.history.replay_since("clinic-1", before)
    assert len(replayed) == 2
    drain(webhooks, clock)
    assert sorted(receiver.stats()["handled"]) == sorted([first["id"], second["id"]])
    # Replaying one message delivers it again with the same webhook-id (absorbed as duplicate).
    assert (
        len(webhooks.history.replay_message("clinic-1", first["id"], endpoint_id=endpoint.id)) == 1
    )
    drain(webhooks, clock)
    assert receiver.stats()["duplicates"] == 1
    # Nothing failed since: replay_since has nothing to do.
    assert webhooks.history.replay_since("clinic-1", before) == []


def test_delivery_connects_to_the_checked_address(
    make_webhooks: Callable[..., Webhooks], start_receiver: Any
) -> None:
    receiver = start_receiver()
    port = receiver.base.rsplit(":", 1)[1]
    guard = URLGuard(
        require_https=False,
        allow_networks=["127.0.0.0/8"],
        resolver=lambda host, p: ["127.0.0.1"] if host == "receiver.test" else [],
    )
    webhooks = make_webhooks(guard=guard)
    endpoint = webhooks.endpoints.create("o", f"http://receiver.test:{port}/hook", secret=SECRET)
    result = webhooks.test_fire("o", endpoint.id)
    assert result.delivery.status == "succeeded"
    assert receiver.stats()["hosts"] == [f"receiver.test:{port}"]


def test_dns_rebinding_after_registration_is_blocked(
    make_webhooks: Callable[..., Webhooks], start_receiver: Any
) -> None:
    receiver = start_receiver()
    port = receiver.base.rsplit(":", 1)[1]
    answers = iter([["93.184.215.14"]])

    def rebinding(host: str, p: int) -> list[str]:
        return next(answers, ["127.0.0.1"])  # public at registration, loopback afterwards

    webhooks = make_webhooks(guard=URLGuard(require_https=False, resolver=rebinding))
    endpoint = webhooks.endpoints.create("o", f"http://rebind.test:{port}/hook", secret=SECRET)
    result = webhooks.test_fire("o", endpoint.id)
    assert result.attempt is not None
    assert result.attempt.status_code is None
    assert "127.0.0.1" in (result.attempt.error or "")
    assert "loopback" in (result.attempt.error or "")
    assert receiver.stats()["requests"] == 0
