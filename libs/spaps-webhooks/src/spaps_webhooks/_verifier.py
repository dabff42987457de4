"""Receiver side: verify Standard Webhooks headers against one or more secrets."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ._errors import WebhookHeaderError, WebhookSignatureError, WebhookTimestampError
from ._secret import WebhookSecret
from ._signing import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_content

Clock = Callable[[], float]
"""Returns the current Unix time in seconds (``time.time`` by default)."""

_ID = re.compile(r"^[\x21-\x7e]{1,256}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE_BYTES = 32
_MAX_SIGNATURE_HEADER = 4096


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    """A webhook whose signature and timestamp checked out.

    Attributes:
        id: The ``webhook-id`` (the sender's message id; stable across retries).
        timestamp: The ``webhook-timestamp`` in Unix seconds.
        body: The exact request body.
        event_type: The envelope's ``type`` once a receiver checked the payload.
        data: The envelope's ``data`` once a receiver checked the payload.

    .. versionchanged:: 0.3.0
       ``event_type`` and ``data``.
    """

    id: str
    timestamp: int
    body: bytes
    event_type: str | None = None
    data: Any = None

    def json(self) -> Any:
        """Parse the body as JSON."""
        return json.loads(self.body)


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        # Plain dicts are case-sensitive; HTTP header names are not.
        for key, candidate in headers.items():
            if key.lower() == name:
                value = candidate
                break
    if not value:
        raise WebhookHeaderError(name, f"the {name} header is required", missing=True)
    return value


class WebhookVerifier:
    """Check ``webhook-id``/``webhook-timestamp``/``webhook-signature`` of incoming requests.

    Signatures are compared in constant time against every configured secret, so during
    a rotation the receiver can hold both the old and the new secret.

    Args:
        secrets: One or more ``whsec_`` secrets (or parsed :class:`WebhookSecret`).
        tolerance: How far ``webhook-timestamp`` may be from now, either way (default 5 min).
        clock: Current Unix time; inject a fake clock in tests.
    """

    def __init__(
        self,
        *,
        secrets: Iterable[WebhookSecret | str],
        tolerance: timedelta = timedelta(minutes=5),
        clock: Clock = time.time,
    ) -> None:
        parsed = [WebhookSecret.parse(s) for s in secrets]
        if not parsed:
            raise ValueError("WebhookVerifier needs at least one secret")
        if not isinstance(tolerance, timedelta) or tolerance <= timedelta(0):
            raise ValueError("tolerance must be a positive timedelta")
        self._keys = tuple(s.key for s in parsed)
        self._tolerance = tolerance.total_seconds()
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes | str) -> VerifiedWebhook:
        """Verify one request; return it or raise.

        Args:
            headers: The request headers (any case).
            body: The exact raw body, before any JSON parsing.

        Raises:
            WebhookHeaderError: A header is missing or malformed (400).
            WebhookTimestampError: The timestamp is outside the tolerance (401).
            WebhookSignatureError: No signature matches a configured secret (401).
        """
        raw = body.encode("utf-8") if isinstance(body, str) else body
        msg_id = _required(headers, ID_HEADER)
        timestamp_text = _required(headers, TIMESTAMP_HEADER)
        signature_text = _required(headers, SIGNATURE_HEADER)
        if not _ID.match(msg_id):
            raise WebhookHeaderError(ID_HEADER, "webhook-id must be 1-256 visible ASCII characters")
        if not _TIMESTAMP.match(timestamp_text):
            raise WebhookHeaderError(
                TIMESTAMP_HEADER, "webhook-timestamp must be an integer number of Unix seconds"
            )
        timestamp = int(timestamp_text)
        now = self._clock()
        if timestamp < now - self._tolerance:
            raise WebhookTimestampError("webhook-timestamp is too old")
        if timestamp > now + self._tolerance:
            raise WebhookTimestampError("webhook-timestamp is too far in the future")

        candidates = _parse_signatures(signature_text)
        content = signed_content(msg_id, timestamp, raw)
        for key in self._keys:
            expected = hmac.digest(key, content, "sha256")
            for candidate in candidates:
                if hmac.compare_digest(expected, candidate):
                    return VerifiedWebhook(id=msg_id, timestamp=timestamp, body=raw)
        raise WebhookSignatureError("no v1 signature matches a configured secret")


def _parse_signatures(value: str) -> list[bytes]:
    if len(value) > _MAX_SIGNATURE_HEADER:
        raise WebhookHeaderError(SIGNATURE_HEADER, "webhook-signature is too long")
    found: list[bytes] = []
    for entry in value.split():
        version, sep, encoded = entry.partition(",")
        if not sep or not version or not encoded:
            raise WebhookHeaderError(
                SIGNATURE_HEADER, "webhook-signature entries look like v1,<base64>"
            )
        if version != "v1":
            continue  # other schemes (v1a asymmetric) are allowed and ignored
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookHeaderError(
                SIGNATURE_HEADER, "a v1 signature is not valid base64"
            ) from None
        if len(decoded) != _SIGNATURE_BYTES:
            raise WebhookHeaderError(SIGNATURE_HEADER, "a v1 signature is 32 bytes")
        found.append(decoded)
    if not found:
        raise WebhookSignatureError("webhook-signature carries no v1 signature")
    return found
