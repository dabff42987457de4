"""The IETF ``RateLimit-Policy``/``RateLimit`` fields and problem+json answers.

Field format: draft-ietf-httpapi-ratelimit-headers-11 (Structured Field lists)::

    RateLimit-Policy: "10-per-1s";q=10;w=1, "1000-per-3600s";q=1000;w=3600
    RateLimit: "10-per-1s";r=9;t=1, "1000-per-3600s";r=999;t=4

``q`` is the sustained quota per window ``w``; a burst other than ``q`` is added as
the vendor parameter ``spaps-burst``. ``r`` is what the client may send right now and
``t`` the whole seconds (rounded up) until one more request becomes available: within
``t`` the client can send no more than ``r``. On a 429, ``t`` equals ``Retry-After``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from math import ceil

from starlette.types import Scope, Send

from ._decision import Decision, LimitState
from ._errors import SpapsRatelimitError
from ._limit import Limit


def policy_field(limits: Iterable[Limit]) -> str:
    """The ``RateLimit-Policy`` value for ``limits``."""
    return ", ".join(limit.header_item for limit in limits)


def effective_window(state: LimitState) -> int:
    """Whole seconds until ``state`` admits one request more than ``remaining``.

    Within that time the client can send no more than ``remaining`` requests, which
    is what the draft's ``t`` promises; for a rejecting limit it equals ``Retry-After``.
    """
    limit = state.limit
    after = state.reset_after - (limit.burst - state.remaining - 1) * limit.interval_us / 1e6
    return max(0, ceil(after - 1e-9))


def ratelimit_field(decision: Decision) -> str:
    """The ``RateLimit`` value for ``decision``."""
    return ", ".join(
        f'"{s.limit.name}";r={s.remaining};t={effective_window(s)}' for s in decision.states
    )


def decision_headers(decision: Decision) -> dict[str, str]:
    """The rate-limit headers of a decision (empty when the limiter failed open)."""
    if not decision.states:
        return {}
    headers = {
        "RateLimit-Policy": policy_field(s.limit for s in decision.states),
        "RateLimit": ratelimit_field(decision),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after_seconds)
    return headers


def admitted_raw_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """:func:`decision_headers` of an admitted decision, as ASGI pairs (the hot path)."""
    states = decision.states
    if len(states) == 1:
        s = states[0]
        limit = s.limit
        policy, name = limit._header_bytes
        after = s.reset_after - (limit.burst - s.remaining - 1) * limit.interval_us / 1e6
        current = b"%s;r=%d;t=%d" % (name, s.remaining, max(0, ceil(after - 1e-9)))
        return [(b"ratelimit-policy", policy), (b"ratelimit", current)]
    policy_text = policy_field(s.limit for s in states)
    return [
        (b"ratelimit-policy", policy_text.encode()),
        (b"ratelimit", ratelimit_field(decision).encode()),
    ]


def raw_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """ASGI header pairs (lower-case names) of ``headers``."""
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def problem_body(error: SpapsRatelimitError, scope: Scope | None = None) -> bytes:
    """The problem+json body of ``error``, in the shape every spaps library uses.

    Given the request's ``scope``, the body also names the request: ``instance`` (its
    path) and ``request_id`` (what a request-id middleware stored in
    ``scope["state"]["request_id"]``, as spaps-ops does; ``null`` without one), the
    members spaps-ops' own problem answers carry.
    """
    body: dict[str, object] = {
        "type": f"urn:spaps:problem:{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if scope is not None:
        state = scope.get("state")
        body["instance"] = scope.get("path")
        body["request_id"] = state.get("request_id") if isinstance(state, dict) else None
    for name, value in (error.extensions or {}).items():
        body.setdefault(name, value)  # extensions never override the standard members
    return json.dumps(body, separators=(",", ":")).encode()


async def send_problem(send: Send, error: SpapsRatelimitError, scope: Scope | None = None) -> None:
    """Answer with ``error`` as ``application/problem+json`` (see :func:`problem_body`)."""
    body = problem_body(error, scope)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *raw_headers(error.headers or {}),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
