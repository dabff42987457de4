"""One HTTP attempt: POST the signed body, read a capped part of the answer."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ._errors import SpapsWebhooksError
from ._schedule import parse_retry_after
from ._ssrf import URLGuard

_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the receiver answered, or why there was no answer."""

    status_code: int | None
    excerpt: str | None
    error: str | None
    retry_after: float | None
    latency_ms: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class ProcessClient:
    """One pooled client per process, created lazily so it is never shared across a fork.

    Args:
        factory: Builds the client.
    """

    def __init__(self, factory: Callable[[], httpx.Client]) -> None:
        self._factory = factory
        self._client: httpx.Client | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        """The client of this process (built on first use after start or fork)."""
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = self._factory()
                self._pid = os.getpid()
            return self._client

    def close(self) -> None:
        """Close the client if this process built it; the next :meth:`get` builds a new one."""
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None


def send(
    client: httpx.Client,
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    guard: URLGuard,
    timeout: float,
    max_body: int,
    excerpt_chars: int,
) -> SendResult:
    """POST ``body`` to ``url`` and describe the answer; never raises for network faults.

    Args:
        client: The guarded delivery client.
        url: The endpoint URL (its shape is checked again here).
        body: The JSON body.
        headers: The signed headers.
        guard: The SSRF guard.
        timeout: The client's timeout, for the error message.
        max_body: At most this many bytes of the response body are read.
        excerpt_chars: How much of the body is kept.
    """
    started = time.perf_counter()
    try:
        guard.check_scheme(url)
        with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            received = bytearray()
            for chunk in response.iter_raw():
                received += chunk
                if len(received) >= max_body:
                    break  # capped: the rest is never read
            retry_after = None
            if response.status_code in _RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            excerpt = bytes(received[: excerpt_chars * 4]).decode("utf-8", "replace")
            return SendResult(
                status_code=response.status_code,
                excerpt=excerpt[:excerpt_chars],
                error=None,
                retry_after=retry_after,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
    except httpx.TimeoutException as exc:
        error = f"timeout after {timeout:g}s ({type(exc).__name__})"
    except (httpx.HTTPError, SpapsWebhooksError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return SendResult(None, None, error, None, (time.perf_counter() - started) * 1000)
