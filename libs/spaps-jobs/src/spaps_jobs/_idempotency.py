"""HTTP ``Idempotency-Key``: store the first response, replay it on retries.

Semantics of Stripe and draft-ietf-httpapi-idempotency-key-header:

* the first response (status, headers, body; 5xx included) is stored per key *and
  caller* for ``ttl`` seconds and replayed to a retry with ``Idempotent-Replayed: true``;
* the same key with a different request (method, path, query or body) -> 422;
* a duplicate arriving while the first is still running -> 409 (with ``Retry-After``);
* a missing key where one is required -> 400; a key longer than 255 characters -> 400;
* responses that mean the operation did not start (validation 400/422, 401, 403, 429)
  are not stored: the key is released so a corrected request can reuse it;
* the expiry of a stored response is published in ``Idempotency-Expires``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._dedupe import AsyncDedupeStore
from ._errors import (
    IdempotencyError,
    IdempotencyKeyInUseError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMismatchError,
    IdempotencyKeyMissingError,
)
from ._idempotency_response import (
    ResponseRecorder,
    decode_response,
    encode_response,
    http_date,
    read_body,
)
from ._problem import send_problem

__all__ = ["CallerFunc", "IdempotencyMiddleware", "authorization_caller"]

CallerFunc = Callable[[Scope], str]
"""Who is calling: keys of different callers never collide."""

DEFAULT_RELEASE_STATUSES = frozenset({400, 401, 403, 422, 429})
REPLAYED_HEADER = b"idempotent-replayed"


def authorization_caller(scope: Scope) -> str:
    """The default caller: a hash of the ``Authorization`` (or ``X-API-Key``) header.

    Requests without credentials share the caller ``"anonymous"``; pass your own
    :data:`CallerFunc` (user id, tenant, API key id) when you have one.
    """
    for name, value in scope.get("headers", ()):
        if name in (b"authorization", b"x-api-key"):
            return "h" + hashlib.sha256(value).hexdigest()[:32]
    return "anonymous"


class IdempotencyMiddleware:
    """Pure-ASGI ``Idempotency-Key`` support over an :class:`~spaps_jobs.AsyncDedupeStore`.

    Args:
        app: The ASGI app.
        store: Where claims and stored responses live (Redis or SQL).
        ttl: Seconds a response is kept and replayed (published in ``Idempotency-Expires``).
        lease: Seconds a request in progress holds its key; after a crash the key frees up
            then. Make it longer than the slowest request.
        methods: Methods the protocol applies to (others pass through untouched).
        require: ``True`` (every such request needs a key), ``False``, or a predicate on
            the scope (e.g. by path). Per route, use
            :func:`spaps_jobs.fastapi.require_idempotency_key` instead.
        caller: Identifies the caller; keys are scoped to it.
        header_name: Name of the request header.
        max_key_length: Longest accepted key.
        release_statuses: Statuses that mean "not started": such responses are not stored.
        namespace: Prefix of the store keys.
        max_body_size: Largest request body buffered (and fingerprinted); a larger keyed
            request is answered 413.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: AsyncDedupeStore,
        ttl: float = 24 * 3600.0,
        lease: float = 60.0,
        methods: Collection[str] = ("POST", "PATCH"),
        require: bool | Callable[[Scope], bool] = False,
        caller: CallerFunc = authorization_caller,
        header_name: str = "Idempotency-Key",
        max_key_length: int = 255,
        release_statuses: Collection[int] = DEFAULT_RELEASE_STATUSES,
        namespace: str = "idem",
        max_body_size: int = 1024 * 1024,
    ) -> None:
        if not isinstance(store, AsyncDedupeStore):
            raise TypeError("store must implement AsyncDedupeStore")
        if not ttl > 0 or not lease > 0:
            raise ValueError("ttl and lease must be positive")
        if not isinstance(max_key_length, int) or not 0 < max_key_length <= 255:
            raise ValueError("max_key_length must be between 1 and 255")
        if not callable(caller):
            raise TypeError("caller must be callable")
        if not isinstance(require, bool) and not callable(require):
            raise TypeError("require must be a bool or a predicate on the scope")
        if not isinstance(max_body_size, int) or max_body_size < 1:
            raise ValueError("max_body_size must be a positive integer")
        if not header_name:
            raise ValueError("header_name must be a non-empty string")
        self.app = app
        self.store = store
        self.ttl = float(ttl)
        self.lease = float(lease)
        self.methods = frozenset(m.upper() for m in methods)
        self.require = require
        self.caller = caller
        self.header = header_name.lower().encode("latin-1")
        self.header_name = header_name
        self.max_key_length = max_key_length
        self.release_statuses = frozenset(release_statuses)
        self.namespace = namespace
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope.get("headers", ()) if k == self.header), None)
        if raw is None:
            required = self.require if isinstance(self.require, bool) else self.require(scope)
            if required:
                await send_problem(
                    send, IdempotencyKeyMissingError(f"send an {self.header_name} header")
                )
                return
            await self.app(scope, receive, send)
            return
        key = raw.decode("latin-1").strip()
        if not key or len(key) > self.max_key_length:
            await send_problem(
                send,
                IdempotencyKeyInvalidError(
                    f"{self.header_name} must be 1 to {self.max_key_length} characters"
                ),
            )
            return
        try:
            claimed = await self._claim_or_replay(scope, receive, send, key)
        except IdempotencyError as exc:
            await send_problem(send, exc)
            return
        if claimed is not None:  # outside the try: the app's own errors are not ours
            await self._run(scope, receive, send, *claimed)

    async def _claim_or_replay(
        self, scope: Scope, receive: Receive, send: Send, key: str
    ) -> tuple[str, bytes] | None:
        """Claim the key (returns the store key and body) or answer the request here."""
        body, disconnected = await read_body(receive, self.max_body_size)
        if disconnected:
            return None
        fingerprint = hashlib.sha256(
            b"\n".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    body,
                ]
            )
        ).hexdigest()
        caller = hashlib.sha256(self.caller(scope).encode()).hexdigest()[:32]
        store_key = f"{self.namespace}:{caller}:{key}"
        for _ in range(3):  # a record can expire between our claim and our read
            if await self.store.claim(store_key, self.lease, fingerprint=fingerprint):
                return store_key, body
            record = await self.store.get(store_key)
            if record is None:
                continue
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyMismatchError(
                    f"this {self.header_name} was used with a different request"
                )
            if not record.done:
                raise IdempotencyKeyInUseError(
                    "a request with this key is still being processed; retry later",
                    headers={"Retry-After": "1"},
                )
            status, headers, stored_body = decode_response(record.result or b"")
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        *headers,
                        (REPLAYED_HEADER, b"true"),
                        (b"idempotency-expires", http_date(record.expires_at)),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": stored_body})
            return None
        raise IdempotencyKeyInUseError(
            "the key is contended; retry later", headers={"Retry-After": "1"}
        )

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, store_key: str, body: bytes
    ) -> None:
        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def settle(status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
            if status in self.release_statuses:
                await self.store.release(store_key)
            else:
                await self.store.complete(
                    store_key, encode_response(status, headers, content), ttl=self.ttl
                )

        expires = http_date(time.time() + self.ttl)
        recorder = ResponseRecorder(
            send, [(b"idempotency-expires", expires)], self.release_statuses, settle
        )
        try:
            await self.app(scope, replay_receive, recorder)
        finally:
            # No complete response (the app raised or gave up): let a retry run it.
            # After a complete response the key is already settled, whatever follows
            # (e.g. background tasks that fail).
            if not recorder.complete:
                await self.store.release(store_key)
