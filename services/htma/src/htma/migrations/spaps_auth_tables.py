"""The spaps-auth tables as revision 0001 creates them.

A frozen copy, as every migration is: a later change to spaps-auth's tables gets a
revision of its own, and this module stays as it is. Revision 0001 calls these around its
own tables; the standalone tables reference no other table, the linked ones reference
them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_standalone() -> None:
    op.create_table(
        "auth_api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_api_keys")),
    )
    with op.batch_alter_table("auth_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_api_keys_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "auth_audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_auth_audit_log")),
    )
    op.create_table(
        "auth_login_failures",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_login_failures")),
    )
    op.create_table(
        "auth_magic_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_magic_links")),
    )
    with op.batch_alter_table("auth_magic_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_magic_links_email"), ["email"], unique=False)

    op.create_table(
        "auth_organisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_organisations")),
    )
    op.create_table(
        "auth_recovery_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_auth_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("auth_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_recovery_codes_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "auth_revocations",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_revocations")),
    )
    with op.batch_alter_table("auth_revocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_revocations_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "auth_totp",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("last_counter", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_auth_totp")),
    )
    op.create_table(
        "auth_wallet_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_auth_wallet_nonces")),
    )


def create_linked() -> None:
    op.create_table(
        "auth_invitations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["auth_organisations.id"],
            name=op.f("fk_auth_invitations_org_id_auth_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_invitations_token_hash")),
    )
    with op.batch_alter_table("auth_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_auth_invitations_target", ["org_id", "team_id", "email"], unique=False
        )

    op.create_table(
        "auth_memberships",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["auth_organisations.id"],
            name=op.f("fk_auth_memberships_org_id_auth_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_memberships")),
        sa.UniqueConstraint("org_id", "team_id", "user_id", name="uq_auth_memberships_member"),
    )
    with op.batch_alter_table("auth_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "auth_refresh_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_auth_refresh_tokens_session_id_auth_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("auth_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_refresh_tokens_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "auth_teams",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["auth_organisations.id"],
            name=op.f("fk_auth_teams_org_id_auth_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_teams")),
    )
    with op.batch_alter_table("auth_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_teams_org_id"), ["org_id"], unique=False)


def drop_linked() -> None:
    with op.batch_alter_table("auth_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_teams_org_id"))

    op.drop_table("auth_teams")
    with op.batch_alter_table("auth_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_refresh_tokens_session_id"))

    op.drop_table("auth_refresh_tokens")
    with op.batch_alter_table("auth_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_memberships_user_id"))

    op.drop_table("auth_memberships")
    with op.batch_alter_table("auth_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_invitations_target")

    op.drop_table("auth_invitations")


def drop_standalone() -> None:
    op.drop_table("auth_wallet_nonces")
    op.drop_table("auth_totp")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))

    op.drop_table("auth_sessions")
    with op.batch_alter_table("auth_revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_revocations_expires_at"))

    op.drop_table("auth_revocations")
    with op.batch_alter_table("auth_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_recovery_codes_user_id"))

    op.drop_table("auth_recovery_codes")
    op.drop_table("auth_organisations")
    with op.batch_alter_table("auth_magic_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_magic_links_email"))

    op.drop_table("auth_magic_links")
    op.drop_table("auth_login_failures")
    op.drop_table("auth_audit_log")
    with op.batch_alter_table("auth_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_api_keys_owner_id"))

    op.drop_table("auth_api_keys")
