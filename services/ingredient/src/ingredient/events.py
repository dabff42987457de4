"""Webhook events ingredient publishes, and the in-process delivery loop.

ingredient has no Celery worker of its own: a daemon thread relays the outbox
(spaps-jobs), fans messages out to endpoints and attempts due deliveries
(spaps-webhooks), with the library's retry schedule and delivery log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel
from spaps_jobs import OutboxMessage, Relay
from spaps_webhooks import EventRegistry, Webhooks, create_webhooks
from sqlalchemy import Engine

from ingredient.db import OUTBOX, WEBHOOK_TABLES
from ingredient.settings import Settings

INGREDIENT_UPDATED = "ingredient.updated.v1"
SUBSCRIBER = "htma"
_log = logging.getLogger("ingredient.webhooks")


class IngredientUpdatedV1(BaseModel):
    """An ingredient of the catalog changed; ``changed`` names the fields."""

    code: str
    name: str
    version: int
    changed: list[str]


def event_registry() -> EventRegistry:
    """The events ingredient publishes."""
    registry = EventRegistry()
    registry.register(INGREDIENT_UPDATED, IngredientUpdatedV1)
    return registry


@dataclass
class WebhookRuntime:
    """Webhooks on a sync engine, plus the delivery loop."""

    engine: Engine
    webhooks: Webhooks
    interval: float = 0.5
    _stop: threading.Event = field(default_factory=threading.Event)
    _queue: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        # fan_out and deliver hand new delivery ids to ``enqueue``: attempt them this pass.
        self.webhooks.enqueue = self._queue.append

    def run_once(self) -> int:
        """Relay pending events, then attempt new and due deliveries; returns attempts made."""
        Relay(OUTBOX, self.engine, self._fan_out).run_once()
        ids = [*self._queue, *self.webhooks.deliverer.due(limit=100)]
        self._queue.clear()
        for delivery_id in dict.fromkeys(ids):
            self.webhooks.deliver(delivery_id)
        return len(ids)

    def _fan_out(self, batch: Sequence[OutboxMessage]) -> None:
        for message in batch:
            self.webhooks.fan_out(message.payload)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # keep delivering after a database hiccup
                _log.exception("webhook delivery pass failed")

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread = threading.Thread(target=self._loop, name="ingredient-webhooks", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and dispose of the engine."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.engine.dispose()

    def subscribe(self, url: str, secret: str | None) -> None:
        """Make sure ``url`` receives ``ingredient.updated.v1`` (idempotent)."""
        endpoints = self.webhooks.endpoints
        if any(e.url == url for e in endpoints.list(SUBSCRIBER)):
            return
        endpoints.create(SUBSCRIBER, url, event_types=[INGREDIENT_UPDATED], secret=secret)


def build_webhooks(settings: Settings) -> WebhookRuntime:
    """The webhook runtime for ``settings`` (not started)."""
    # create_webhooks seals endpoint secrets with settings.webhook_sealing_keys.
    webhooks = create_webhooks(
        settings, tables=WEBHOOK_TABLES, outbox=OUTBOX, registry=event_registry()
    )
    return WebhookRuntime(webhooks.engine, webhooks)
