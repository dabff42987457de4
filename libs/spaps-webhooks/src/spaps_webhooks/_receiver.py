"""Receivers: size limit, verification, payload shape, replay protection, receipts."""

from __future__ import annotations

import dataclasses
import inspect
import json
import threading
import time
from collections.abc import AsyncIterable, Callable, Mapping
from datetime import timedelta
from typing import Protocol, runtime_checkable

from ._errors import (
    InvalidPayloadError,
    SpapsWebhooksError,
    WebhookDuplicateError,
    WebhookPayloadError,
    WebhookTooLargeError,
)
from ._receipts import Receipt, ReceiptHook, ReceiptOutcome
from ._registry import EventRegistry
from ._signing import ID_HEADER
from ._verifier import VerifiedWebhook, WebhookVerifier

DEFAULT_MAX_BODY = 1024 * 1024


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
    """Size limit, verification, payload shape and replay protection by ``webhook-id``.

    In order: a body over ``max_body_bytes`` is refused (413) before it is read whole
    or verified; the signature and timestamp are checked (400/401); the payload of a
    correctly signed request must be a Standard Webhooks envelope, a JSON object with a
    string ``type`` and an object ``data``, valid against ``registry`` when its type is
    registered there (else 400 ``webhooks.malformed_payload``); a replayed id is a
    duplicate. Every answer is reported to ``on_receipt``.

    Args:
        verifier: Checks headers, timestamp and signatures.
        replay_guard: Where claimed ids are remembered; ``None`` disables replay protection.
        replay_ttl: How long an id is remembered. Keep it longer than the sender's retry
            horizon so a redelivery after a lost 2xx is absorbed too (default 3 days).
        key_prefix: Namespace of the keys in the guard.
        max_body_bytes: Largest body accepted (default 1 MiB).
        registry: Schemas the ``data`` of registered event types must match.
        check_envelope: ``False`` accepts any body the signature covers (non-standard
            senders); ``registry`` is then not consulted.
        on_receipt: Records each :class:`Receipt` (accepted, duplicate, rejected).
        clock: Unix time for receipts.

    .. versionchanged:: 0.3.0
       ``max_body_bytes``, ``registry``, ``check_envelope``, ``on_receipt``, ``clock``.
    """

    def __init__(
        self,
        *,
        verifier: WebhookVerifier,
        replay_guard: ReplayGuard | None = None,
        replay_ttl: timedelta = timedelta(days=3),
        key_prefix: str = "spaps-webhooks:received:",
        max_body_bytes: int = DEFAULT_MAX_BODY,
        registry: EventRegistry | None = None,
        check_envelope: bool = True,
        on_receipt: ReceiptHook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(verifier, WebhookVerifier):
            raise TypeError("verifier must be a WebhookVerifier")
        if replay_guard is not None and not isinstance(replay_guard, ReplayGuard):
            raise TypeError("replay_guard must provide async claim(key, ttl) and release(key)")
        if replay_ttl <= timedelta(0):
            raise ValueError("replay_ttl must be positive")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise TypeError("max_body_bytes must be an int")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self.verifier = verifier
        self.max_body_bytes = max_body_bytes
        self._guard = replay_guard
        self._ttl = replay_ttl.total_seconds()
        self._prefix = key_prefix
        self._registry = registry
        self._check_envelope = check_envelope
        self._on_receipt = on_receipt
        self._clock = clock

    async def read_body(self, headers: Mapping[str, str], chunks: AsyncIterable[bytes]) -> bytes:
        """Read a request body, refusing it as soon as it exceeds ``max_body_bytes``.

        A declared ``Content-Length`` over the limit is refused before any byte is
        read; a chunked body is refused at the first chunk past it.

        Raises:
            WebhookTooLargeError: The body is over the limit (recorded as rejected).
        """
        declared = _header(headers, "content-length")
        size = 0
        try:
            declared_size = int(declared) if declared and declared.strip().isdigit() else 0
            if declared_size > self.max_body_bytes:
                raise WebhookTooLargeError(self.max_body_bytes)
            body = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise WebhookTooLargeError(self.max_body_bytes)
                body += chunk
        except WebhookTooLargeError as exc:
            await self._record("rejected", headers, exc.status, exc, size)
            raise
        return bytes(body)

    async def receive(self, headers: Mapping[str, str], body: bytes | str) -> VerifiedWebhook:
        """Verify a request, check its payload and claim its ``webhook-id``.

        Args:
            headers: The request headers.
            body: The raw body.

        Raises:
            WebhookTooLargeError: The body is over ``max_body_bytes`` (413).
            WebhookVerificationError: Verification failed (400/401).
            WebhookPayloadError: Signed, but not a well-formed payload (400).
            WebhookDuplicateError: This id was already received (answer 2xx, do nothing).
        """
        raw = body.encode("utf-8") if isinstance(body, str) else body
        try:
            if len(raw) > self.max_body_bytes:
                raise WebhookTooLargeError(self.max_body_bytes)
            webhook = self._check_payload(self.verifier.verify(headers, raw))
            if self._guard is not None and not await self._guard.claim(
                self._prefix + webhook.id, self._ttl
            ):
                raise WebhookDuplicateError(webhook.id)
        except SpapsWebhooksError as exc:
            duplicate = isinstance(exc, WebhookDuplicateError)
            outcome: ReceiptOutcome = "duplicate" if duplicate else "rejected"
            await self._record(outcome, headers, exc.status, exc, len(raw))
            raise
        await self._record("accepted", headers, 200, None, len(raw))
        return webhook

    def _check_payload(self, webhook: VerifiedWebhook) -> VerifiedWebhook:
        if not self._check_envelope:
            return webhook
        try:
            payload = json.loads(webhook.body)
        except ValueError:
            raise WebhookPayloadError(webhook.id, "the body is not JSON") from None
        if not isinstance(payload, dict):
            raise WebhookPayloadError(webhook.id, "the body is not a JSON object")
        event_type, data = payload.get("type"), payload.get("data")
        if not isinstance(event_type, str) or not event_type:
            raise WebhookPayloadError(webhook.id, "the body has no string 'type'")
        if not isinstance(data, dict):
            raise WebhookPayloadError(webhook.id, "the body has no object 'data'")
        if self._registry is not None and event_type in self._registry:
            try:
                data = self._registry.validate(event_type, data)
            except InvalidPayloadError as exc:
                detail = f"'data' does not match {event_type}: {exc.detail}"
                raise WebhookPayloadError(webhook.id, detail) from None
        return dataclasses.replace(webhook, event_type=event_type, data=data)

    async def _record(
        self,
        outcome: ReceiptOutcome,
        headers: Mapping[str, str],
        status: int,
        error: SpapsWebhooksError | None,
        size: int,
    ) -> None:
        if self._on_receipt is None:
            return
        receipt = Receipt(
            outcome=outcome,
            webhook_id=_header(headers, ID_HEADER),
            status=status,
            code=error.code if error is not None else None,
            detail=error.detail if error is not None else None,
            size=size,
            received_at=self._clock(),
        )
        result = self._on_receipt(receipt)
        if inspect.isawaitable(result):
            await result

    async def forget(self, webhook: VerifiedWebhook) -> None:
        """Release the claim on ``webhook`` so the sender's retry is processed.

        Args:
            webhook: A webhook returned by :meth:`receive` whose handling failed.
        """
        if self._guard is not None:
            await self._guard.release(self._prefix + webhook.id)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value
