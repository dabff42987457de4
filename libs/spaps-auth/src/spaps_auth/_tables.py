"""SQLAlchemy tables of spaps-auth (prefix ``auth_``), on SQLite and PostgreSQL.

Services include them in their migrations: either target :data:`metadata` directly, or
copy the tables onto their own metadata with :func:`include_tables`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["create_tables", "include_tables", "metadata"]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]  # a datetime from the driver
        return value.astimezone(UTC)  # type: ignore[no-any-return]  # a datetime from the driver


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 64  # length of every string id column

sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("user_agent", String(512), nullable=False, default=""),
    Column("ip", String(64), nullable=False, default=""),
    Column("claims", JSON, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_reason", String(64), nullable=True),
)

refresh_tokens = Table(
    "auth_refresh_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("session_id", String(ID), ForeignKey("auth_sessions.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
    Column("used_at", UTCDateTime, nullable=True),
)

revocations = Table(
    "auth_revocations",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

login_failures = Table(
    "auth_login_failures",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)

api_keys = Table(
    "auth_api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("owner_id", String(ID), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

totp_secrets = Table(
    "auth_totp",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    # Sealed (``s1:<key id>:<base64>``, see SecretSealer) when the manager has a sealer.
    Column("secret", String(255), nullable=False),
    Column("confirmed", Boolean, nullable=False, default=False),
    Column("last_counter", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

recovery_codes = Table(
    "auth_recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("used_at", UTCDateTime, nullable=True),
)

magic_links = Table(
    "auth_magic_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

wallet_nonces = Table(
    "auth_wallet_nonces",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

organisations = Table(
    "auth_organisations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

teams = Table(
    "auth_teams",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("org_id", String(ID), ForeignKey("auth_organisations.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

memberships = Table(
    "auth_memberships",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("org_id", String(ID), ForeignKey("auth_organisations.id"), nullable=False),
    # "" for organisation-level membership: NULL would not be unique in the constraint.
    Column("team_id", String(ID), nullable=False, default=""),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("role", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "team_id", "user_id", name="uq_auth_memberships_member"),
)

invitations = Table(
    "auth_invitations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("org_id", String(ID), ForeignKey("auth_organisations.id"), nullable=False),
    Column("team_id", String(ID), nullable=False, default=""),
    Column("email", String(320), nullable=False),
    Column("role", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", String(ID), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_auth_invitations_target", "org_id", "team_id", "email"),
)


SEQ = BigInteger().with_variant(Integer, "sqlite")  # SQLite's INTEGER is 64-bit


def _audit_columns() -> list[Column[Any]]:
    """The columns of an audit entry: the live log and its archive hold the same rows."""
    return [
        Column("seq", SEQ, primary_key=True, autoincrement=False),
        Column("at", UTCDateTime, nullable=False),
        Column("actor", String(ID), nullable=True),
        Column("action", String(100), nullable=False),
        Column("target", String(200), nullable=True),
        Column("data", Text, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    ]


audit_log = Table("auth_audit_log", metadata, *_audit_columns())

# Entries moved out of the live log by retention (``AuditRetention``), unchanged.
audit_archive = Table("auth_audit_archive", metadata, *_audit_columns())

# One row per archiving batch: the last entry it moved (``seq``, ``hash``), how many it
# moved, when, and ``digest`` over those and the previous checkpoint's digest, so the
# checkpoints form a chain of their own and none can be changed or dropped unnoticed.
audit_checkpoints = Table(
    "auth_audit_checkpoints",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("archived", Integer, nullable=False),
    Column("archived_at", UTCDateTime, nullable=False),
    Column("digest", String(64), nullable=False),
)


def include_tables(target: MetaData) -> list[Table]:
    """Copy every spaps-auth table onto ``target`` (a service's migration metadata).

    The copies have the same names and columns, so the SQL spaps-auth runs applies to
    them unchanged.

    Args:
        target: The service's ``MetaData``.
    """
    return [table.to_metadata(target) for table in metadata.sorted_tables]


async def create_tables(engine: AsyncEngine) -> None:
    """Create the spaps-auth tables that do not exist yet (tests, demos, SQLite apps).

    Args:
        engine: An async engine.
    """
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
