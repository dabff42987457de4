"""Clinics: the tenants. Each user, panel, result and message belongs to one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from htma.db import Base, UTCDateTime


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class Clinic(Base):
    """A clinic (tenant). ``id`` is a short slug used as the tenant id everywhere."""

    __tablename__ = "clinics"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32), default="standard")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
