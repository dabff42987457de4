"""Errors of the htma service.

Every HTTP-facing error carries ``status``, ``code``, ``title`` (and ``detail``), which
spaps-ops renders as problem+json::

    HtmaError
    ├── NotFoundError            404 htma.not_found
    ├── ForbiddenError           403 htma.forbidden
    ├── ConflictError            409 htma.conflict
    ├── MfaRequiredError         401 htma.mfa_required
    ├── SignupClosedError        403 htma.signup_closed
    ├── InvalidPanelError        422 htma.invalid_panel
    ├── InvalidMessageError      422 htma.invalid_message
    ├── ResultPendingError       409 htma.result_pending
    ├── MessageDecryptError      500 htma.message_undecryptable   (messaging.cipher)
    └── CommandError             (CLI only)
"""

from __future__ import annotations


class HtmaError(Exception):
    """Root of the htma service's errors."""

    status: int = 500
    code: str = "htma.error"
    title: str = "HTMA service error"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail


class NotFoundError(HtmaError):
    """The resource does not exist (or belongs to another clinic)."""

    status = 404
    code = "htma.not_found"
    title = "Not found"


class ForbiddenError(HtmaError):
    """The caller's role does not allow this."""

    status = 403
    code = "htma.forbidden"
    title = "Forbidden"


class ConflictError(HtmaError):
    """The resource exists already (e-mail, clinic id)."""

    status = 409
    code = "htma.conflict"
    title = "Conflict"


class MfaRequiredError(HtmaError):
    """The account has TOTP enabled and the login carried no one-time code."""

    status = 401
    code = "htma.mfa_required"
    title = "One-time code required"


class SignupClosedError(HtmaError):
    """Open sign-up is off (production default): clinics join by invitation."""

    status = 403
    code = "htma.signup_closed"
    title = "Sign-up closed"


class ResultPendingError(HtmaError):
    """The panel's result is not computed yet; retry later."""

    status = 409
    code = "htma.result_pending"
    title = "Result pending"


class InvalidMessageError(HtmaError):
    """The message body is blank or too long."""

    status = 422
    code = "htma.invalid_message"
    title = "Invalid message"


class InvalidPanelError(HtmaError):
    """The mineral panel is incomplete or out of bounds."""

    status = 422
    code = "htma.invalid_panel"
    title = "Invalid mineral panel"


class CommandError(HtmaError):
    """A CLI command cannot complete (the message says why)."""


#: The problem codes the API answers with (registered with spaps-ops).
ERROR_CODES: tuple[type[HtmaError], ...] = (
    NotFoundError,
    ForbiddenError,
    ConflictError,
    MfaRequiredError,
    SignupClosedError,
    InvalidPanelError,
    InvalidMessageError,
    ResultPendingError,
)
