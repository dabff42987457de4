"""Erasure requests: one row per requested erasure, its status and what it removed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from htma.accounts.models import new_id
from htma.clinics.models import utcnow
from htma.db import Base, UTCDateTime

#: An erasure is one of these.
KINDS = ("tenant", "user")
#: ``queued`` -> ``running`` -> ``done``; ``failed`` (with ``error``) until a re-run ends ``done``.
STATUSES = ("queued", "running", "done", "failed")
#: A request still to finish: a second one for the same subject answers it instead.
PENDING = ("queued", "running")


class ErasureRequest(Base):
    """A requested erasure of a clinic (``kind`` ``tenant``) or of a user (``user``).

    Not tenant-scoped: it outlives the clinic it erases (it is the record that the
    erasure happened), and the worker reads it outside any clinic. ``subject`` is the
    clinic id or the user id; ``clinic_id`` the clinic concerned (the same clinic id for
    a tenant erasure). ``counts`` maps each table to the rows erased (or anonymised) so far.
    """

    __tablename__ = "erasure_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('tenant', 'user')", name="kind"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_erasure_requests_subject", "kind", "subject"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    clinic_id: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
