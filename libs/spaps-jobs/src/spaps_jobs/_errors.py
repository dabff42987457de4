"""Exceptions raised by spaps-jobs.

The tree::

    SpapsJobsError
    ├── BrokerUnavailableError        the broker refused a publish (relay keeps the rows)
    ├── RelayError                    a relay pass failed; its rows stay pending
    ├── ScheduleError (ValueError)    a beat schedule entry is invalid
    ├── ScheduleNotFoundError (KeyError)        no beat schedule entry with that name
    ├── RetentionTargetNotFoundError (KeyError) no retention target with that name
    ├── DeadLetterNotFoundError       no dead letter with that id
    ├── MessageInProgressError        another consumer holds the inbox claim right now
    └── IdempotencyError              HTTP errors of the Idempotency-Key protocol
        ├── IdempotencyKeyMissingError   400 jobs.idempotency_key_missing
        ├── IdempotencyKeyInvalidError   400 jobs.idempotency_key_invalid
        ├── IdempotencyKeyInUseError     409 jobs.idempotency_key_in_use
        ├── IdempotencyKeyMismatchError  422 jobs.idempotency_key_mismatch
        └── IdempotencyBodyTooLargeError 413 jobs.idempotency_body_too_large

Errors that map to HTTP carry ``status``, ``code`` and ``title`` so any problem+json
renderer (spaps-ops or :func:`spaps_jobs.fastapi.install_error_handlers`) can answer them.
"""

from __future__ import annotations

from collections.abc import Mapping


class SpapsJobsError(Exception):
    """Root of every exception spaps-jobs raises on purpose."""

    status: int = 500
    code: str = "jobs.error"
    title: str = "Background job error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


class BrokerUnavailableError(SpapsJobsError):
    """Publishing to the broker failed; nothing was marked as sent."""

    status = 503
    code = "jobs.broker_unavailable"
    title = "Message broker unavailable"


class RelayError(SpapsJobsError):
    """A relay pass failed; the claimed rows stay pending and are retried."""

    code = "jobs.relay_failed"
    title = "Outbox relay pass failed"


class ScheduleError(SpapsJobsError, ValueError):
    """A beat schedule entry from configuration is invalid."""

    code = "jobs.schedule_invalid"
    title = "Invalid schedule"


class ScheduleNotFoundError(SpapsJobsError, KeyError):
    """No entry of the app's beat schedule has the given name.

    .. versionadded:: 0.5.0
    """

    status = 404
    code = "jobs.schedule_not_found"
    title = "Schedule not found"

    def __str__(self) -> str:
        # KeyError would quote the message as a repr; keep it one readable line.
        return str(self.args[0]) if self.args else self.title


class RetentionTargetNotFoundError(SpapsJobsError, KeyError):
    """No retention target is registered under the given name.

    .. versionadded:: 0.5.0
    """

    status = 404
    code = "jobs.retention_target_not_found"
    title = "Retention target not found"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.title


class DeadLetterNotFoundError(SpapsJobsError, LookupError):
    """No dead letter exists with the given id."""

    status = 404
    code = "jobs.dead_letter_not_found"
    title = "Dead letter not found"


class MessageInProgressError(SpapsJobsError):
    """Another consumer is processing this message id right now; retry later."""

    status = 409
    code = "jobs.message_in_progress"
    title = "Message is being processed"


class IdempotencyError(SpapsJobsError):
    """Base of the HTTP ``Idempotency-Key`` protocol errors."""

    status = 400
    code = "jobs.idempotency_error"
    title = "Idempotency key error"


class IdempotencyKeyMissingError(IdempotencyError):
    """The route requires an ``Idempotency-Key`` header and none was sent."""

    status = 400
    code = "jobs.idempotency_key_missing"
    title = "Idempotency-Key header required"


class IdempotencyKeyInvalidError(IdempotencyError):
    """The ``Idempotency-Key`` header is empty or longer than allowed."""

    status = 400
    code = "jobs.idempotency_key_invalid"
    title = "Invalid Idempotency-Key header"


class IdempotencyKeyInUseError(IdempotencyError):
    """A request with the same key is still being processed."""

    status = 409
    code = "jobs.idempotency_key_in_use"
    title = "A request with this Idempotency-Key is in progress"


class IdempotencyKeyMismatchError(IdempotencyError):
    """The key was first used with a different request (method, path or body)."""

    status = 422
    code = "jobs.idempotency_key_mismatch"
    title = "Idempotency-Key reused with a different request"


class IdempotencyBodyTooLargeError(IdempotencyError):
    """A keyed request's body exceeds what the middleware buffers to fingerprint it."""

    status = 413
    code = "jobs.idempotency_body_too_large"
    title = "Request body too large for an idempotent request"
