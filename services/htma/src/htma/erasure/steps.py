"""What an erasure removes, as ordered steps over SQLAlchemy Core (children first).

Each step is one statement run in its own transaction with the request's progress, so a
run interrupted half-way resumes where it stopped: every step deletes what still
matches, or anonymises what is not anonymised yet, and matches nothing a second time.

A **tenant** (clinic) erasure removes everything of the clinic: its users' sessions,
refresh tokens, TOTP secrets, recovery codes, lockout counters and sign-in links; its
invitations, memberships and organisation (spaps-auth); its webhook endpoints, messages,
deliveries and attempts (spaps-webhooks); the outbox messages naming it (results to
compute, events to fan out, whether consumed or not); its panels, results and messages
(spaps-tenancy's ``erase_tenant``); then its users and the clinic itself.

A **user** erasure removes the user's sessions and credentials, the invitations sent to
their address, their memberships, every message they wrote or received, and (a patient)
their panels and results; the user row stays as an anonymised tombstone (no e-mail, no
name, no password) so the records of others that name them (a patient's panels submitted
by an erased practitioner) keep their references.

Kept: the audit log (spaps-auth's chain is append-only and hash-linked; its entries name
users by their opaque id, which no longer leads to a person), outbox and webhook
messages about a user of a clinic that stays (they name panels and users by id), the
erasure request itself, and what expires on its own (idempotency records, revoked-token
markers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spaps_tenancy import erase_tenant, set_tenant_setting
from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Table,
    Update,
    delete,
    literal,
    or_,
    select,
)

from htma.db import OUTBOX, WEBHOOK_TABLES, Base

#: The anonymised user's display name.
ERASED_NAME = "Erased user"


def erased_email(user_id: str) -> str:
    """The placeholder address of an anonymised user (unique, never deliverable)."""
    return f"erased-{user_id}@erased.invalid"


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of an erasure.

    Args:
        name: what it erases (a table name, or ``"tenant rows"``).
        run: erases on the connection; returns rows affected per table.
    """

    name: str
    run: Callable[[Connection], dict[str, int]]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _statement(name: str, statement: Delete | Update) -> Step:
    def run(connection: Connection) -> dict[str, int]:
        return {name: connection.execute(statement).rowcount}

    return Step(name, run)


def _rls(clinic: str, step: Step) -> Step:
    """``step`` with PostgreSQL's row-level-security tenant set to ``clinic`` first."""

    def run(connection: Connection) -> dict[str, int]:
        if connection.dialect.name == "postgresql":
            set_tenant_setting(connection, clinic)
        return step.run(connection)

    return Step(step.name, run)


def _credentials(who: ColumnElement[bool]) -> list[Step]:
    """The spaps-auth rows of the users matching ``who`` (a condition on ``users``)."""
    users = _table("users")
    sessions = _table("auth_sessions")
    tokens = _table("auth_refresh_tokens")
    failures = _table("auth_login_failures")
    links = _table("auth_magic_links")
    user_ids = select(users.c.id).where(who)
    emails = select(users.c.email).where(who)
    # spaps-auth's lockout counts failures under "account:<e-mail>".
    account_keys = select(literal("account:").concat(users.c.email)).where(who)
    session_ids = select(sessions.c.id).where(sessions.c.user_id.in_(user_ids))
    by_user = ("auth_totp", "auth_recovery_codes")
    return [
        _statement(
            "auth_refresh_tokens", delete(tokens).where(tokens.c.session_id.in_(session_ids))
        ),
        _statement("auth_sessions", delete(sessions).where(sessions.c.user_id.in_(user_ids))),
        *(
            _statement(name, delete(_table(name)).where(_table(name).c.user_id.in_(user_ids)))
            for name in by_user
        ),
        _statement(
            "auth_api_keys",
            delete(_table("auth_api_keys")).where(_table("auth_api_keys").c.owner_id.in_(user_ids)),
        ),
        _statement("auth_login_failures", delete(failures).where(failures.c.key.in_(account_keys))),
        _statement("auth_magic_links", delete(links).where(links.c.email.in_(emails))),
    ]


def tenant_steps(clinic: str, *, reason: str, actor: str) -> list[Step]:
    """The steps erasing the clinic ``clinic``.

    Args:
        clinic: the clinic id.
        reason: why (recorded by ``erase_tenant``'s audit record).
        actor: who asked (likewise).
    """
    users = _table("users")
    hooks = WEBHOOK_TABLES
    message_ids = select(hooks.messages.c.id).where(hooks.messages.c.owner == clinic)
    endpoint_ids = select(hooks.endpoints.c.id).where(hooks.endpoints.c.owner == clinic)
    by_org = ("auth_invitations", "auth_memberships", "auth_teams")

    def tenant_rows(connection: Connection) -> dict[str, int]:
        return erase_tenant(connection, Base.metadata, clinic, reason=reason, actor=actor)

    return [
        *_credentials(users.c.clinic_id == clinic),
        *(
            _statement(name, delete(_table(name)).where(_table(name).c.org_id == clinic))
            for name in by_org
        ),
        _statement(
            "auth_organisations",
            delete(_table("auth_organisations")).where(_table("auth_organisations").c.id == clinic),
        ),
        _statement(
            hooks.attempts.name,
            delete(hooks.attempts).where(
                or_(
                    hooks.attempts.c.message_id.in_(message_ids),
                    hooks.attempts.c.endpoint_id.in_(endpoint_ids),
                )
            ),
        ),
        _statement(
            hooks.deliveries.name,
            delete(hooks.deliveries).where(
                or_(
                    hooks.deliveries.c.message_id.in_(message_ids),
                    hooks.deliveries.c.endpoint_id.in_(endpoint_ids),
                )
            ),
        ),
        _statement(
            hooks.messages.name, delete(hooks.messages).where(hooks.messages.c.owner == clinic)
        ),
        _statement(
            hooks.endpoints.name, delete(hooks.endpoints).where(hooks.endpoints.c.owner == clinic)
        ),
        # Not yet consumed: a panel to compute, or a webhook event to fan out (which would
        # record the event again); the consumed ones name the clinic only.
        _statement(
            OUTBOX.table.name,
            delete(OUTBOX.table).where(
                or_(
                    OUTBOX.table.c.payload["clinic"].as_string() == clinic,
                    OUTBOX.table.c.payload["owner"].as_string() == clinic,
                )
            ),
        ),
        Step("tenant rows", tenant_rows),
        _statement("users", delete(users).where(users.c.clinic_id == clinic)),
        _statement("clinics", delete(_table("clinics")).where(_table("clinics").c.id == clinic)),
    ]


def user_steps(user_id: str, clinic: str) -> list[Step]:
    """The steps erasing the user ``user_id`` of the clinic ``clinic``.

    Args:
        user_id: the user.
        clinic: their clinic (the row-level-security tenant of their panels and messages).
    """
    users = _table("users")
    emails = select(users.c.email).where(users.c.id == user_id)
    invitations = _table("auth_invitations")
    memberships = _table("auth_memberships")
    messages, panels, results = _table("messages"), _table("panels"), _table("results")
    anonymise = (
        users.update()
        .where(users.c.id == user_id, users.c.email != erased_email(user_id))
        .values(email=erased_email(user_id), display_name=ERASED_NAME, password_hash=None)
    )
    return [
        *_credentials(users.c.id == user_id),
        _statement("auth_invitations", delete(invitations).where(invitations.c.email.in_(emails))),
        _statement("auth_memberships", delete(memberships).where(memberships.c.user_id == user_id)),
        _rls(
            clinic,
            _statement(
                "messages",
                delete(messages).where(
                    or_(messages.c.sender_id == user_id, messages.c.recipient_id == user_id)
                ),
            ),
        ),
        _rls(clinic, _statement("results", delete(results).where(results.c.patient_id == user_id))),
        _rls(clinic, _statement("panels", delete(panels).where(panels.c.patient_id == user_id))),
        _statement("users", anonymise),
    ]
