"""Replay protection for receivers: each ``webhook-id`` is processed once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Protocol, runtime_checkable

from ._errors import WebhookDuplicateError
from ._verifier import VerifiedWebhook, WebhookVerifier


@runtime_checkable
class ReplayGuard(Protocol):
    """Remembers which keys were claimed, for ``ttl`` seconds.

    ``claim`` must be atomic: of two concurrent claims of one key exactly one wins.
    """

    async def claim(self, key: str, ttl: float) -> bool:
        """Claim ``key``; ``True`` if it was free, ``False`` if already claimed."""
        ...

    async def release(self, key: str) -> None:
        """Forget ``key`` (processing failed; let the sender's retry through)."""
        ...


class MemoryReplayGuard:
    """A process-local :class:`ReplayGuard` (tests, single-process development).

    Args:
        clock: Monotonic seconds; inject a fake in tests.
        max_keys: Bound on remembered keys; the oldest are evicted first.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._clock = clock
        self._max_keys = max_keys
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim_sync(self, key: str, ttl: float) -> bool:
        """Synchronous :meth:`claim`."""
        now = self._clock()
        with self._lock:
            expires = self._expiry.get(key)
            if expires is not None and expires > now:
                return False
            self._expiry.pop(key, None)
            if len(self._expiry) >= self._max_keys:
                self._evict(now)
            self._expiry[key] = now + ttl
            return True

    def _evict(self, now: float) -> None:
        for key in [k for k, exp in self._expiry.items() if exp <= now]:
            del self._expiry[key]
        while len(self._expiry) >= self._max_keys:
            del self._expiry[next(iter(self._expiry))]

    async def claim(self, key: str, ttl: float) -> bool:
        """Claim ``key`` for ``ttl`` seconds."""
        return self.claim_sync(key, ttl)

    async def release(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._expiry.pop(key, None)


class WebhookReceiver:
    """Verification plus replay protection by ``webhook-id``.

    Args:
        verifier: Checks headers, timestamp and signatures.
        replay_guard: Where claimed ids are remembered; ``None`` disables replay protection.
        replay_ttl: How long an id is remembered. Keep it longer than the sender's retry
            horizon so a redelivery after a lost 2xx is absorbed too (default 3 days).
        key_prefix: Namespace of the keys in the guard.
    """

    def __init__(
        self,
        *,
        verifier: WebhookVerifier,
        replay_guard: ReplayGuard | None = None,
        replay_ttl: timedelta = timedelta(days=3),
        key_prefix: str = "spaps-webhooks:received:",
    ) -> None:
        if not isinstance(verifier, WebhookVerifier):
            raise TypeError("verifier must be a WebhookVerifier")
        if replay_guard is not None and not isinstance(replay_guard, ReplayGuard):
            raise TypeError("replay_guard must provide async claim(key, ttl) and release(key)")
        if replay_ttl <= timedelta(0):
            raise ValueError("replay_ttl must be positive")
        self.verifier = verifier
        self._guard = replay_guard
        self._ttl = replay_ttl.total_seconds()
        self._prefix = key_prefix

    async def receive(self, headers: Mapping[str, str], body: bytes | str) -> VerifiedWebhook:
        """Verify a request and claim its ``webhook-id``.

        Args:
            headers: The request headers.
            body: The raw body.

        Raises:
            WebhookVerificationError: Verification failed (400/401).
            WebhookDuplicateError: This id was already received (answer 2xx, do nothing).
        """
        webhook = self.verifier.verify(headers, body)
        if self._guard is not None and not await self._guard.claim(
            self._prefix + webhook.id, self._ttl
        ):
            raise WebhookDuplicateError(webhook.id)
        return webhook

    async def forget(self, webhook: VerifiedWebhook) -> None:
        """Release the claim on ``webhook`` so the sender's retry is processed.

        Args:
            webhook: A webhook returned by :meth:`receive` whose handling failed.
        """
        if self._guard is not None:
            await self._guard.release(self._prefix + webhook.id)
