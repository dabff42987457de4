"""Secure messages between a patient and a practitioner, encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from spaps_tenancy import TenantScoped
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from htma.accounts.models import new_id
from htma.clinics.models import utcnow
from htma.db import Base, UTCDateTime


class Message(TenantScoped, Base):
    """A message; the body exists only as AES-GCM ciphertext sealed with ``key_id``."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
