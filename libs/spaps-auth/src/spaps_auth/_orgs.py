"""Organisations, teams, memberships and invitations."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, sha256_hex, utcnow
from ._errors import InvalidInvitationError, NotFoundError
from ._mail import MailMessage, MailSender
from ._org_types import Invitation, Membership, Organisation, Team
from ._org_types import membership_of as _membership
from ._tables import invitations, memberships, organisations, teams

__all__ = ["Invitation", "Membership", "OrganisationManager", "Organisation", "Team"]


class OrganisationManager:
    """Organisation and team membership, and e-mail invitations.

    Inviting the same address to the same organisation/team again (a resend) revokes
    the previous invitation, so only the newest link works. Accepting is single use and
    creates the membership in the same transaction.

    Args:
        engine: Async engine holding the spaps-auth tables.
        invitation_ttl: How long an invitation stays valid.
        sender: When given, invitations are e-mailed.
        accept_url_template: Link with a ``{token}`` placeholder, used in the e-mail.
        clock: Returns the current aware UTC datetime.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        invitation_ttl: timedelta = timedelta(days=7),
        sender: MailSender | None = None,
        accept_url_template: str = "{token}",
        clock: Now = utcnow,
    ) -> None:
        if invitation_ttl <= timedelta(0):
            raise ValueError("invitation_ttl must be positive")
        if sender is not None and "{token}" not in accept_url_template:
            raise ValueError("accept_url_template must contain '{token}'")
        self._engine = engine
        self._ttl = invitation_ttl
        self._sender = sender
        self._template = accept_url_template
        self._clock = clock

    async def create_organisation(
        self, name: str, *, owner_id: str, owner_role: str = "owner"
    ) -> Organisation:
        """Create an organisation with ``owner_id`` as its first member."""
        org = Organisation(secrets.token_hex(8), name, self._clock())
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(organisations).values(id=org.id, name=name, created_at=org.created_at)
            )
            await conn.execute(
                insert(memberships).values(
                    id=secrets.token_hex(8),
                    org_id=org.id,
                    team_id="",
                    user_id=owner_id,
                    role=owner_role,
                    created_at=org.created_at,
                )
            )
        return org

    async def ensure_organisation(self, org_id: str, name: str) -> None:
        """Create organisation ``org_id`` (no members) unless it exists: for services
        whose tenants live in their own table and use spaps-auth for invitations.

        .. versionadded:: 0.3.0
        """
        async with self._engine.begin() as conn:
            found = (
                await conn.execute(select(organisations.c.id).where(organisations.c.id == org_id))
            ).first()
            if found is None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            insert(organisations).values(
                                id=org_id, name=name[:200], created_at=self._clock()
                            )
                        )
                except IntegrityError:
                    pass  # created concurrently: it exists, which is what was asked

    async def pending_invitation(self, token: str) -> Invitation | None:
        """The invitation ``token`` belongs to while it can still be accepted (not
        expired, superseded, revoked or used), without consuming it; ``None`` otherwise.

        .. versionadded:: 0.3.0
        """
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(invitations).where(
                        invitations.c.token_hash == sha256_hex(token),
                        invitations.c.accepted_at.is_(None),
                        invitations.c.revoked_at.is_(None),
                        invitations.c.expires_at > self._clock(),
                    )
                )
            ).first()
        if row is None:
            return None
        return Invitation(row.id, row.org_id, row.team_id or None, row.email, row.role,
                          row.expires_at)  # fmt: skip

    async def create_team(self, org_id: str, name: str) -> Team:
        """Create a team in ``org_id``."""
        team = Team(secrets.token_hex(8), org_id, name)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(teams).values(id=team.id, org_id=org_id, name=name, created_at=self._clock())
            )
        return team

    async def add_member(
        self, org_id: str, user_id: str, role: str, *, team_id: str | None = None
    ) -> Membership:
        """Add ``user_id`` with ``role`` (to a team when ``team_id`` is given).

        Raises:
            ValueError: Already a member there.
        """
        member = Membership(secrets.token_hex(8), org_id, team_id, user_id, role)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(memberships).values(
                        id=member.id,
                        org_id=org_id,
                        team_id=team_id or "",
                        user_id=user_id,
                        role=role,
                        created_at=self._clock(),
                    )
                )
        except IntegrityError:
            raise ValueError("already a member") from None
        return member

    async def memberships(self, user_id: str) -> list[Membership]:
        """Every membership of ``user_id``."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(memberships).where(memberships.c.user_id == user_id))
            ).all()
        return [_membership(r) for r in rows]

    async def members(self, org_id: str, *, team_id: str | None = None) -> list[Membership]:
        """Members of an organisation (organisation level) or of one of its teams."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(memberships).where(
                        memberships.c.org_id == org_id, memberships.c.team_id == (team_id or "")
                    )
                )
            ).all()
        return [_membership(r) for r in rows]

    async def invite(
        self,
        org_id: str,
        email: str,
        role: str,
        *,
        team_id: str | None = None,
        invited_by: str | None = None,
    ) -> tuple[Invitation, str]:
        """Invite ``email``; returns the invitation and its token (also e-mailed if a
        sender is configured). Earlier pending invitations for the same target are revoked.
        """
        email = email.strip().lower()
        now = self._clock()
        token = secrets.token_urlsafe(32)
        invitation = Invitation(secrets.token_hex(8), org_id, team_id, email, role, now + self._ttl)
        async with self._engine.begin() as conn:
            exists = (
                await conn.execute(select(organisations.c.id).where(organisations.c.id == org_id))
            ).first()
            if exists is None:
                raise NotFoundError("no such organisation")
            await conn.execute(
                update(invitations)
                .where(
                    invitations.c.org_id == org_id,
                    invitations.c.team_id == (team_id or ""),
                    invitations.c.email == email,
                    invitations.c.accepted_at.is_(None),
                    invitations.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            await conn.execute(
                insert(invitations).values(
                    id=invitation.id,
                    org_id=org_id,
                    team_id=team_id or "",
                    email=email,
                    role=role,
                    token_hash=sha256_hex(token),
                    invited_by=invited_by,
                    created_at=now,
                    expires_at=invitation.expires_at,
                )
            )
        if self._sender is not None:
            link = self._template.replace("{token}", token)
            await self._sender.send(
                MailMessage(
                    to=email,
                    subject="You have been invited",
                    text=f"Accept the invitation:\n\n{link}\n",
                )
            )
        return invitation, token

    async def accept(self, token: str, user_id: str, *, email: str | None = None) -> Membership:
        """Accept an invitation as ``user_id``; creates the membership.

        Args:
            token: The invitation token.
            user_id: The accepting user.
            email: When given, must equal the invited address (verified e-mail of the user).

        Raises:
            InvalidInvitationError: Unknown, expired, superseded, used, or for another e-mail.
        """
        now = self._clock()
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(invitations).where(invitations.c.token_hash == sha256_hex(token))
                )
            ).first()
            if row is None or (email is not None and email.strip().lower() != row.email):
                raise InvalidInvitationError("invalid invitation")
            result = await conn.execute(
                update(invitations)
                .where(
                    invitations.c.id == row.id,
                    invitations.c.accepted_at.is_(None),
                    invitations.c.revoked_at.is_(None),
                    invitations.c.expires_at > now,
                )
                .values(accepted_at=now)
            )
            if result.rowcount != 1:
                raise InvalidInvitationError("invitation expired, superseded or already used")
            existing = (
                await conn.execute(
                    select(memberships).where(
                        memberships.c.org_id == row.org_id,
                        memberships.c.team_id == row.team_id,
                        memberships.c.user_id == user_id,
                    )
                )
            ).first()
            if existing is not None:
                return _membership(existing)
            member = Membership(
                secrets.token_hex(8), row.org_id, row.team_id or None, user_id, row.role
            )
            await conn.execute(
                insert(memberships).values(
                    id=member.id,
                    org_id=row.org_id,
                    team_id=row.team_id,
                    user_id=user_id,
                    role=row.role,
                    created_at=now,
                )
            )
        return member
