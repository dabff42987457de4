"""The exceptions of spaps-webhooks.

Every exception derives from :class:`SpapsWebhooksError`. Those that map to an HTTP
answer carry ``status``, ``code``, ``title`` and ``detail`` so any problem+json renderer
(spaps-ops, or :func:`spaps_webhooks.fastapi.install_error_handlers`) can answer with them.

::

    SpapsWebhooksError
    ├── WebhookVerificationError            (400/401, receiver side)
    │   ├── WebhookHeaderError              400 webhooks.missing_header / malformed_header
    │   ├── WebhookTimestampError           401 webhooks.timestamp_out_of_tolerance
    │   └── WebhookSignatureError           401 webhooks.invalid_signature
    ├── WebhookDuplicateError               200 webhooks.duplicate (absorbed replay)
    ├── UnsafeURLError                      422 webhooks.unsafe_url (SSRF guard)
    ├── EndpointNotFoundError               404 webhooks.endpoint_not_found
    ├── MessageNotFoundError                404 webhooks.message_not_found
    ├── UnknownEventTypeError               422 webhooks.unknown_event_type
    ├── InvalidPayloadError                 422 webhooks.invalid_payload
    ├── WebhookPayloadError                 400 webhooks.malformed_payload (receiver)
    ├── WebhookTooLargeError                413 webhooks.body_too_large (receiver)
    └── SecretSealingError                  500 webhooks.secret_unreadable
"""

from __future__ import annotations

from collections.abc import Mapping


class SpapsWebhooksError(Exception):
    """Root of every error raised by spaps-webhooks.

    Args:
        detail: A human readable explanation of this occurrence.
    """

    status: int = 500
    code: str = "webhooks.error"
    title: str = "Webhook error"
    headers: Mapping[str, str] | None = None
    extensions: Mapping[str, object] | None = None

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail


class WebhookVerificationError(SpapsWebhooksError):
    """An incoming webhook failed verification."""

    status = 401
    code = "webhooks.verification_failed"
    title = "Webhook verification failed"


class WebhookHeaderError(WebhookVerificationError):
    """A ``webhook-*`` header is missing or malformed (400).

    Args:
        header: Name of the offending header.
        detail: What is wrong with it.
        missing: ``True`` when the header is absent rather than malformed.
    """

    status = 400
    code = "webhooks.malformed_header"
    title = "Malformed webhook header"

    def __init__(self, header: str, detail: str, *, missing: bool = False) -> None:
        super().__init__(detail)
        self.header = header
        if missing:
            self.code = "webhooks.missing_header"
            self.title = "Missing webhook header"
        self.extensions = {"header": header}


class WebhookTimestampError(WebhookVerificationError):
    """The ``webhook-timestamp`` is outside the tolerance window (401)."""

    code = "webhooks.timestamp_out_of_tolerance"
    title = "Webhook timestamp outside tolerance"


class WebhookSignatureError(WebhookVerificationError):
    """No ``v1`` signature matched any configured secret (401)."""

    code = "webhooks.invalid_signature"
    title = "Invalid webhook signature"


class WebhookDuplicateError(SpapsWebhooksError):
    """This ``webhook-id`` was already received: answer 2xx so the sender stops.

    Args:
        message_id: The repeated ``webhook-id``.
    """

    status = 200
    code = "webhooks.duplicate"
    title = "Webhook already received"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"webhook {message_id!r} was already received")
        self.message_id = message_id
        self.extensions = {"webhook_id": message_id}


class UnsafeURLError(SpapsWebhooksError):
    """An endpoint URL is not allowed: wrong scheme or a forbidden address.

    Args:
        url: The refused URL.
        detail: Why it is refused.
    """

    status = 422
    code = "webhooks.unsafe_url"
    title = "Endpoint URL not allowed"

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(detail)
        self.url = url


class EndpointNotFoundError(SpapsWebhooksError):
    """No endpoint with this id for this owner (404)."""

    status = 404
    code = "webhooks.endpoint_not_found"
    title = "Webhook endpoint not found"


class MessageNotFoundError(SpapsWebhooksError):
    """No message with this id for this owner (404)."""

    status = 404
    code = "webhooks.message_not_found"
    title = "Webhook message not found"


class UnknownEventTypeError(SpapsWebhooksError):
    """The event type is not registered (422)."""

    status = 422
    code = "webhooks.unknown_event_type"
    title = "Unknown event type"


class InvalidPayloadError(SpapsWebhooksError):
    """The payload does not match the schema of its event type (422).

    Args:
        event_type: The event type whose schema rejected the payload.
        detail: The validation message.
        errors: The validation errors (pydantic ``errors()`` format).
    """

    status = 422
    code = "webhooks.invalid_payload"
    title = "Invalid event payload"

    def __init__(
        self, event_type: str, detail: str, *, errors: list[dict[str, object]] | None = None
    ) -> None:
        super().__init__(detail)
        self.event_type = event_type
        self.extensions = {"event_type": event_type, "errors": errors or []}


class WebhookPayloadError(SpapsWebhooksError):
    """A correctly signed webhook whose body is not JSON or not of the expected shape (400).

    Args:
        message_id: The ``webhook-id``.
        detail: What is wrong with the body.

    .. versionadded:: 0.3.0
    """

    status = 400
    code = "webhooks.malformed_payload"
    title = "Malformed webhook payload"

    def __init__(self, message_id: str, detail: str) -> None:
        super().__init__(detail)
        self.message_id = message_id
        self.extensions = {"webhook_id": message_id}


class WebhookTooLargeError(SpapsWebhooksError):
    """The request body is larger than the receiver accepts (413); it was not read whole.

    Args:
        limit: The limit in bytes.

    .. versionadded:: 0.3.0
    """

    status = 413
    code = "webhooks.body_too_large"
    title = "Webhook body too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the webhook body exceeds {limit} bytes")
        self.limit = limit
        self.extensions = {"limit": limit}


class SecretSealingError(SpapsWebhooksError):
    """A stored endpoint secret cannot be opened: unknown key id, sealed for another row,
    damaged, or sealed while no keys are configured.

    .. versionadded:: 0.3.0
    """

    status = 500
    code = "webhooks.secret_unreadable"
    title = "Webhook secret cannot be read"
