"""The spaps-auth objects htma runs on, built once per app (or CLI run) from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from spaps_auth import (
    AuditLog,
    Authenticator,
    DatabaseLockoutStore,
    KeySet,
    Lockout,
    MagicLinkManager,
    MailMessage,
    MailSender,
    OrganisationManager,
    PasswordHasher,
    PasswordLogin,
    PermissionRegistry,
    SessionManager,
    TokenIssuer,
    TokenVerifier,
    TotpManager,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from htma.clinics.roles import PERMISSIONS
from htma.identity.keystore import SigningKeyStore
from htma.settings import Settings

ALGORITHMS = ("EdDSA",)
#: Invitations stay valid this long; password-reset links this long.
INVITATION_TTL = timedelta(days=7)
RESET_LINK_TTL = timedelta(minutes=30)
RESET_TEXT = (
    "Reset your htma password with this link (valid {minutes} minutes, once):\n\n{link}\n\n"
    "If you did not ask for it, ignore this e-mail: your password is unchanged."
)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LogMailSender:
    """The default mail transport: logs each e-mail on ``htma.mail`` (development).

    htma has no SMTP transport of its own: production passes a ``MailSender`` to
    ``create_app(mail_sender=...)``; this one logs the recipient and subject only there,
    never the links (which are credentials).
    """

    def __init__(self, *, include_body: bool) -> None:
        self._include_body = include_body
        self._log = logging.getLogger("htma.mail")

    async def send(self, message: MailMessage) -> None:
        """Log ``message`` (its body only in development)."""
        body = f"\n{message.text}" if self._include_body else " (body not logged)"
        self._log.info("mail to %s: %s%s", message.to, message.subject, body)


def permission_registry() -> PermissionRegistry:
    """Roles (patient, practitioner, lab_admin) and the permissions they grant."""
    registry = PermissionRegistry()
    for permissions in PERMISSIONS.values():
        for permission in permissions:
            registry.permission(permission)
    for role, permissions in PERMISSIONS.items():
        registry.role(role.value, permissions)
    return registry


@dataclass(frozen=True, slots=True)
class AuthStack:
    """Everything identity-related, sharing one key set and one database."""

    keys: KeySet
    hasher: PasswordHasher
    login: PasswordLogin
    issuer: TokenIssuer
    verifier: TokenVerifier
    sessions: SessionManager
    totp: TotpManager
    authenticator: Authenticator
    audit: AuditLog
    orgs: OrganisationManager
    reset_links: MagicLinkManager


def build_auth(
    settings: Settings,
    engine: AsyncEngine,
    *,
    hasher: PasswordHasher | None = None,
    mail: MailSender | None = None,
    clock: Clock | None = None,
) -> AuthStack:
    """Build the auth stack.

    Access tokens are checked against their session on every request: a token of a
    revoked session (logout, refresh-token reuse, a password or MFA change) is refused,
    seen by this process at once and by others within ``settings.session_check_ttl``.

    Args:
        settings: the service settings (issuer, audience, key file, lockout, keys).
        engine: the database holding the ``auth_*`` tables.
        hasher: password hasher (default: argon2id at OWASP parameters).
        mail: sends invitations and password-reset links (default: :class:`LogMailSender`).
        clock: the time of invitations and reset links (tests pass a settable one).
    """
    keys = SigningKeyStore(settings.signing_keys_path).load()
    hasher = hasher or PasswordHasher()
    issuer = TokenIssuer(
        keys=keys,
        issuer=settings.issuer,
        audience=settings.token_audience,
        access_ttl=settings.access_ttl,
    )
    audit = AuditLog(engine)
    sessions = SessionManager(
        engine,
        issuer=issuer,
        audit=audit,
        revocation_cache_ttl=timedelta(seconds=settings.session_check_ttl),
    )
    verifier = TokenVerifier(
        keys=keys,
        issuer=settings.issuer,
        audience=settings.token_audience,
        algorithms=ALGORITHMS,
        leeway=5,
        revocation=sessions,
    )
    lockout = Lockout(DatabaseLockoutStore(engine), account_threshold=settings.lockout_threshold)
    mail = mail or LogMailSender(include_body=not settings.is_production)
    now = clock or _utcnow
    return AuthStack(
        keys=keys,
        hasher=hasher,
        login=PasswordLogin(hasher=hasher, lockout=lockout),
        issuer=issuer,
        verifier=verifier,
        sessions=sessions,
        totp=TotpManager(engine, issuer_name=settings.service_name, sealer=settings.totp_sealer()),
        authenticator=Authenticator(verifier=verifier, registry=permission_registry()),
        audit=audit,
        orgs=OrganisationManager(
            engine,
            invitation_ttl=INVITATION_TTL,
            sender=mail,
            clock=now,
            accept_url_template=f"{settings.public_url.rstrip('/')}/join?token={{token}}",
        ),
        reset_links=MagicLinkManager(
            engine,
            sender=mail,
            ttl=RESET_LINK_TTL,
            clock=now,
            text=RESET_TEXT,
            link_template=f"{settings.public_url.rstrip('/')}/reset-password?token={{token}}",
            subject="Reset your htma password",
        ),
    )
