"""Users: one clinic and one role each; passwords hashed with argon2id (spaps-auth)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from htma.clinics.models import utcnow
from htma.db import Base, UTCDateTime


def new_id() -> str:
    """A random 32-character hex id."""
    return uuid.uuid4().hex


class User(Base):
    """A person: patient, practitioner or lab admin of one clinic.

    Not tenant-scoped itself (login finds a user by e-mail before the clinic is known);
    every read through the API filters by the caller's clinic.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('patient', 'practitioner', 'lab_admin')", name="role"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
