"""The value types of organisations: organisation, team, membership, invitation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Invitation", "Membership", "Organisation", "Team", "membership_of"]


@dataclass(frozen=True)
class Organisation:
    """An organisation (tenant, clinic, company)."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Team:
    """A team inside an organisation."""

    id: str
    org_id: str
    name: str


@dataclass(frozen=True)
class Membership:
    """A user's role in an organisation, or in one of its teams (``team_id``)."""

    id: str
    org_id: str
    team_id: str | None
    user_id: str
    role: str


@dataclass(frozen=True)
class Invitation:
    """A pending invitation (the token itself is only returned by ``invite``)."""

    id: str
    org_id: str
    team_id: str | None
    email: str
    role: str
    expires_at: datetime


def membership_of(row: object) -> Membership:
    r = row  # a Row with the memberships columns
    return Membership(r.id, r.org_id, r.team_id or None, r.user_id, r.role)  # type: ignore[attr-defined]  # Row attributes
