"""The spaps-auth objects htma runs on, built once per app (or CLI run) from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from spaps_auth import (
    Authenticator,
    DatabaseLockoutStore,
    KeySet,
    Lockout,
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


def build_auth(
    settings: Settings, engine: AsyncEngine, *, hasher: PasswordHasher | None = None
) -> AuthStack:
    """Build the auth stack.

    Args:
        settings: the service settings (issuer, audience, key file, lockout).
        engine: the database holding the ``auth_*`` tables.
        hasher: password hasher (default: argon2id at OWASP parameters).
    """
    keys = SigningKeyStore(settings.signing_keys_path).load()
    hasher = hasher or PasswordHasher()
    issuer = TokenIssuer(
        keys=keys,
        issuer=settings.issuer,
        audience=settings.token_audience,
        access_ttl=settings.access_ttl,
    )
    verifier = TokenVerifier(
        keys=keys,
        issuer=settings.issuer,
        audience=settings.token_audience,
        algorithms=ALGORITHMS,
        leeway=5,
    )
    lockout = Lockout(DatabaseLockoutStore(engine), account_threshold=settings.lockout_threshold)
    return AuthStack(
        keys=keys,
        hasher=hasher,
        login=PasswordLogin(hasher=hasher, lockout=lockout),
        issuer=issuer,
        verifier=verifier,
        sessions=SessionManager(engine, issuer=issuer),
        totp=TotpManager(engine, issuer_name=settings.service_name),
        authenticator=Authenticator(verifier=verifier, registry=permission_registry()),
    )
