"""spaps-auth: identity and access for FastAPI services.

Passwords (argon2id), policy and breached-password checks, JWT access tokens with key
rotation and JWKS, refresh-token rotation with reuse detection, sessions, RBAC/ABAC,
API keys, lockout, TOTP, magic links, wallet sign-in, organisations and invitations,
signed cookies, a hash-chained audit log, and retention targets that purge finished
sessions and invitations and archive old audit entries. FastAPI glue lives in
:mod:`spaps_auth.fastapi`.
"""

from importlib.metadata import version as _version

from ._access import (
    PermissionRegistry,
    Predicate,
    Principal,
    all_of,
    any_of,
    authorize,
    has_permission,
    is_owner,
    same_organisation,
)
from ._apikeys import ApiKey, ApiKeyManager, CreatedApiKey
from ._audit import AuditEntry, AuditLog, AuditVerification
from ._audit_retention import AuditRetention
from ._authenticator import Authenticator, parse_bearer
from ._cookies import CookieSigner
from ._errors import (
    AccountLockedError,
    AuthenticationError,
    BreachCheckUnavailableError,
    InvalidApiKeyError,
    InvalidCredentialsError,
    InvalidInvitationError,
    InvalidMagicLinkError,
    InvalidOtpError,
    InvalidSignatureError,
    InvalidTokenError,
    KeysUnavailableError,
    NotFoundError,
    PasswordPolicyError,
    PermissionDeniedError,
    RefreshTokenReusedError,
    SealedSecretError,
    SpapsAuthError,
    TokenExpiredError,
    TokenRevokedError,
    WalletSignInError,
)
from ._jwks import JWKSClient
from ._keys import JsonWebKey, KeySet
from ._lockout import DatabaseLockoutStore, Lockout, LockoutStore
from ._login import PasswordLogin, SecondFactor
from ._magic_link import MagicLinkManager
from ._mail import MailMessage, MailSender, RecordingMailSender
from ._orgs import Invitation, Membership, Organisation, OrganisationManager, Team
from ._passwords import PasswordHasher
from ._policy import BreachedPasswordChecker, PasswordPolicy
from ._redis_lockout import RedisLockoutStore
from ._retention import InvitationRetention, SessionRetention
from ._revocation import RevocationList
from ._schema_audit import MigrationOps, downgrade_audit_archive, upgrade_audit_archive
from ._sealing import SealingKey, SecretSealer
from ._sessions import SessionInfo, SessionManager, TokenPair
from ._siwe import SiweMessage
from ._tables import create_tables, include_tables, metadata
from ._tokens import KeyResolver, RevocationChecker, TokenClaims, TokenIssuer
from ._totp import TotpEnrolment, TotpManager, totp_secret_aad
from ._verifier import TokenCacheInfo, TokenVerifier
from ._wallet import WalletSignIn

__version__ = _version("spaps-auth")

__all__ = [
    "AccountLockedError",
    "ApiKey",
    "ApiKeyManager",
    "AuditEntry",
    "AuditLog",
    "AuditRetention",
    "AuditVerification",
    "AuthenticationError",
    "Authenticator",
    "BreachCheckUnavailableError",
    "BreachedPasswordChecker",
    "CookieSigner",
    "CreatedApiKey",
    "DatabaseLockoutStore",
    "InvalidApiKeyError",
    "InvalidCredentialsError",
    "InvalidInvitationError",
    "InvalidMagicLinkError",
    "InvalidOtpError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "Invitation",
    "InvitationRetention",
    "JWKSClient",
    "JsonWebKey",
    "KeyResolver",
    "KeySet",
    "KeysUnavailableError",
    "Lockout",
    "LockoutStore",
    "MagicLinkManager",
    "MailMessage",
    "MailSender",
    "Membership",
    "MigrationOps",
    "NotFoundError",
    "Organisation",
    "OrganisationManager",
    "PasswordHasher",
    "PasswordLogin",
    "PasswordPolicy",
    "PasswordPolicyError",
    "PermissionDeniedError",
    "PermissionRegistry",
    "Predicate",
    "Principal",
    "RecordingMailSender",
    "RedisLockoutStore",
    "RefreshTokenReusedError",
    "RevocationChecker",
    "RevocationList",
    "SealedSecretError",
    "SealingKey",
    "SecondFactor",
    "SecretSealer",
    "SessionInfo",
    "SessionManager",
    "SessionRetention",
    "SiweMessage",
    "SpapsAuthError",
    "Team",
    "TokenCacheInfo",
    "TokenClaims",
    "TokenExpiredError",
    "TokenIssuer",
    "TokenPair",
    "TokenRevokedError",
    "TokenVerifier",
    "TotpEnrolment",
    "TotpManager",
    "WalletSignIn",
    "WalletSignInError",
    "__version__",
    "all_of",
    "any_of",
    "authorize",
    "create_tables",
    "downgrade_audit_archive",
    "has_permission",
    "include_tables",
    "is_owner",
    "metadata",
    "parse_bearer",
    "same_organisation",
    "totp_secret_aad",
    "upgrade_audit_archive",
]
