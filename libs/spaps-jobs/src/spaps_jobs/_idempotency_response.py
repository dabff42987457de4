"""The responses the idempotency middleware stores and replays.

A stored response is a small JSON document (status, latin-1 headers, base64 body);
:class:`ResponseRecorder` copies a response on its way out and settles the key with it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from email.utils import formatdate

from starlette.types import Message, Receive, Send

from ._errors import IdempotencyBodyTooLargeError

__all__ = ["ResponseRecorder", "decode_response", "encode_response", "http_date", "read_body"]


def encode_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The stored form of a response."""
    return json.dumps(
        {
            "s": status,
            "h": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers],
            "b": base64.b64encode(body).decode("ascii"),
        },
        separators=(",", ":"),
    ).encode()


def decode_response(raw: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of a response stored by :func:`encode_response`."""
    data = json.loads(raw)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in data["h"]]
    return int(data["s"]), headers, base64.b64decode(data["b"])


class ResponseRecorder:
    """Per-request: forwards the response, keeps a copy, and settles the key.

    The key is settled (result stored, or claim released) *before* the last body chunk
    goes out: a client that retries the moment it has the response gets the replay,
    never a 409 for a request that already finished.
    """

    def __init__(
        self,
        send: Send,
        extra_headers: list[tuple[bytes, bytes]],
        skip: frozenset[int],
        settle: Callable[[int, list[tuple[bytes, bytes]], bytes], Awaitable[None]],
    ) -> None:
        self.send = send
        self.extra_headers = extra_headers
        self.skip = skip
        self.settle = settle
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.complete = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", ()))
            if self.status not in self.skip:  # only a stored response gets an expiry
                message = {**message, "headers": [*self.headers, *self.extra_headers]}
        elif message["type"] == "http.response.body" and not self.complete:
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                self.complete = True
                await self.settle(self.status, self.headers, bytes(self.body))
        await self.send(message)


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole request body and whether the client disconnected instead of sending it.

    Raises:
        IdempotencyBodyTooLargeError: The body is longer than ``limit`` bytes.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise IdempotencyBodyTooLargeError(f"keyed requests may carry at most {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def http_date(timestamp: float) -> bytes:
    """``timestamp`` as an HTTP date (``Idempotency-Expires``)."""
    return formatdate(timestamp, usegmt=True).encode("latin-1")
