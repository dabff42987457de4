"""Standard Webhooks 1.0 signatures: HMAC-SHA256 over ``{id}.{timestamp}.{body}``."""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Iterable

from ._secret import WebhookSecret

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def _key(secret: WebhookSecret | str) -> bytes:
    # Fast path for parsed secrets: signing is on the hot path of every delivery.
    return secret.key if isinstance(secret, WebhookSecret) else WebhookSecret.parse(secret).key


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def signed_content(msg_id: str, timestamp: int, body: bytes | str) -> bytes:
    """Return the bytes a signature covers: ``{id}.{timestamp}.{body}``.

    Args:
        msg_id: The ``webhook-id``.
        timestamp: The ``webhook-timestamp`` in Unix seconds.
        body: The exact request body.
    """
    return b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, _as_bytes(body))


def raw_signature(key: bytes, content: bytes) -> bytes:
    """HMAC-SHA256 of ``content`` under ``key`` (one-shot C implementation)."""
    return hmac.digest(key, content, "sha256")


def sign(secret: WebhookSecret | str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """Return one ``v1,<base64>`` signature.

    Args:
        secret: The endpoint secret (``whsec_...`` or parsed).
        msg_id: The ``webhook-id``.
        timestamp: Unix seconds, as sent in ``webhook-timestamp``.
        body: The exact request body.
    """
    digest = hmac.digest(_key(secret), signed_content(msg_id, timestamp, body), "sha256")
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(
    secrets: Iterable[WebhookSecret | str],
    msg_id: str,
    body: bytes | str,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Return the three Standard Webhooks headers for a delivery.

    With several secrets (rotation overlap) ``webhook-signature`` carries one
    space-separated ``v1,`` entry per secret, so receivers holding either verify.

    Args:
        secrets: One or more secrets; the first is the current one.
        msg_id: The ``webhook-id`` (stable across retries of one message).
        body: The exact request body.
        timestamp: Unix seconds; defaults to now.

    Raises:
        ValueError: No secret was given.
    """
    when = int(time.time()) if timestamp is None else timestamp
    content = signed_content(msg_id, when, body)
    entries = [
        "v1," + base64.b64encode(hmac.digest(_key(s), content, "sha256")).decode("ascii")
        for s in secrets
    ]
    if not entries:
        raise ValueError("at least one secret is needed to sign")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(when),
        SIGNATURE_HEADER: " ".join(entries),
    }
