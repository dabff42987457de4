"""Exceptions raised by spaps-auth.

Every error derives from :class:`SpapsAuthError` and carries ``status``, ``code`` and
``title`` so any problem+json renderer (spaps-ops, or
:func:`spaps_auth.fastapi.install_error_handlers`) answers with the right status without
importing this library::

    SpapsAuthError
    ├── AuthenticationError              401 auth.unauthenticated
    │   ├── InvalidTokenError            401 auth.invalid_token
    │   │   ├── TokenExpiredError        401 auth.token_expired
    │   │   ├── TokenRevokedError        401 auth.token_revoked
    │   │   └── RefreshTokenReusedError  401 auth.refresh_token_reused
    │   ├── InvalidCredentialsError      401 auth.invalid_credentials
    │   ├── InvalidApiKeyError           401 auth.invalid_api_key
    │   ├── InvalidOtpError              401 auth.invalid_otp
    │   ├── InvalidMagicLinkError        401 auth.invalid_magic_link
    │   └── WalletSignInError            401 auth.wallet_sign_in_failed
    ├── PermissionDeniedError            403 auth.forbidden
    ├── NotFoundError                    404 auth.not_found
    ├── InvalidInvitationError           410 auth.invalid_invitation
    ├── PasswordPolicyError              422 auth.weak_password
    ├── AccountLockedError               429 auth.account_locked
    ├── BreachCheckUnavailableError      503 auth.breach_check_unavailable
    ├── KeysUnavailableError             503 auth.keys_unavailable
    ├── InvalidSignatureError            400 auth.invalid_signature (signed cookies)
    └── SealedSecretError                500 auth.sealed_secret_unreadable
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AccountLockedError",
    "AuthenticationError",
    "BreachCheckUnavailableError",
    "InvalidApiKeyError",
    "InvalidCredentialsError",
    "InvalidInvitationError",
    "InvalidMagicLinkError",
    "InvalidOtpError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "KeysUnavailableError",
    "NotFoundError",
    "PasswordPolicyError",
    "PermissionDeniedError",
    "RefreshTokenReusedError",
    "SealedSecretError",
    "SpapsAuthError",
    "TokenExpiredError",
    "TokenRevokedError",
    "WalletSignInError",
]


class SpapsAuthError(Exception):
    """Root of every spaps-auth error.

    Args:
        detail: Human-readable explanation of this occurrence (safe to show to clients).
        headers: Extra response headers (e.g. ``WWW-Authenticate``, ``Retry-After``).
        extensions: Extra problem+json members.
    """

    status: int = 500
    code: str = "auth.error"
    title: str = "Authentication error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers: Mapping[str, str] | None = headers
        self.extensions: Mapping[str, object] | None = extensions


class AuthenticationError(SpapsAuthError):
    """The caller is not authenticated (no, bad or expired credentials)."""

    status = 401
    code = "auth.unauthenticated"
    title = "Authentication required"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(
            detail,
            headers=headers if headers is not None else {"WWW-Authenticate": "Bearer"},
            extensions=extensions,
        )


class InvalidTokenError(AuthenticationError):
    """A token is malformed, badly signed, or fails a claim check."""

    code = "auth.invalid_token"
    title = "Invalid token"


class TokenExpiredError(InvalidTokenError):
    """The token's ``exp`` is in the past."""

    code = "auth.token_expired"
    title = "Token expired"


class TokenRevokedError(InvalidTokenError):
    """The token (or its session) is on the revocation list."""

    code = "auth.token_revoked"
    title = "Token revoked"


class RefreshTokenReusedError(InvalidTokenError):
    """An already rotated refresh token was presented again; its family is revoked."""

    code = "auth.refresh_token_reused"
    title = "Refresh token reused"


class InvalidCredentialsError(AuthenticationError):
    """Unknown account or wrong password (deliberately indistinguishable)."""

    code = "auth.invalid_credentials"
    title = "Invalid credentials"


class InvalidApiKeyError(AuthenticationError):
    """The API key is unknown, malformed, revoked or expired."""

    code = "auth.invalid_api_key"
    title = "Invalid API key"


class InvalidOtpError(AuthenticationError):
    """A one-time password or recovery code did not verify."""

    code = "auth.invalid_otp"
    title = "Invalid one-time code"


class InvalidMagicLinkError(AuthenticationError):
    """The magic link is unknown, expired or already used."""

    code = "auth.invalid_magic_link"
    title = "Invalid or expired sign-in link"


class WalletSignInError(AuthenticationError):
    """The EIP-4361 message or its signature did not verify."""

    code = "auth.wallet_sign_in_failed"
    title = "Wallet sign-in failed"


class PermissionDeniedError(SpapsAuthError):
    """The caller is authenticated but not allowed to do this."""

    status = 403
    code = "auth.forbidden"
    title = "Forbidden"


class NotFoundError(SpapsAuthError):
    """The object does not exist or belongs to someone else (indistinguishable)."""

    status = 404
    code = "auth.not_found"
    title = "Not found"


class InvalidInvitationError(SpapsAuthError):
    """The invitation is unknown, expired, superseded or already accepted."""

    status = 410
    code = "auth.invalid_invitation"
    title = "Invitation invalid or expired"


class PasswordPolicyError(SpapsAuthError):
    """A new password breaks the policy; ``violations`` lists stable reason codes.

    Args:
        violations: Reason codes such as ``"too_short"`` or ``"breached"``.
    """

    status = 422
    code = "auth.weak_password"
    title = "Password does not meet the policy"

    def __init__(self, violations: list[str]) -> None:
        super().__init__(
            "password rejected: " + ", ".join(violations),
            extensions={"violations": list(violations)},
        )
        self.violations = list(violations)


class AccountLockedError(SpapsAuthError):
    """Too many failed attempts; retry after ``retry_after`` seconds.

    Args:
        retry_after: Seconds until another attempt is accepted.
    """

    status = 429
    code = "auth.account_locked"
    title = "Too many failed attempts"

    def __init__(self, retry_after: int) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            f"try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
            extensions={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class BreachCheckUnavailableError(SpapsAuthError):
    """The breached-password API failed and the checker is configured fail-closed."""

    status = 503
    code = "auth.breach_check_unavailable"
    title = "Password check unavailable"


class KeysUnavailableError(SpapsAuthError):
    """No verification keys could be obtained (JWKS issuer down and nothing cached)."""

    status = 503
    code = "auth.keys_unavailable"
    title = "Verification keys unavailable"


class InvalidSignatureError(SpapsAuthError):
    """A signed value (cookie) is tampered with, signed by an unknown key, or expired."""

    status = 400
    code = "auth.invalid_signature"
    title = "Invalid signed value"


class SealedSecretError(SpapsAuthError):
    """A secret sealed at rest cannot be opened: unknown key id, tampered value, or a value
    copied from another row (its associated data does not match).

    .. versionadded:: 0.3.0
    """

    status = 500
    code = "auth.sealed_secret_unreadable"
    title = "Stored secret cannot be opened"
