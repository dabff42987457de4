"""Results: the analysis of one panel, computed by a job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spaps_tenancy import TenantScoped
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from htma.accounts.models import new_id
from htma.clinics.models import utcnow
from htma.db import Base, UTCDateTime


class Result(TenantScoped, Base):
    """Ratios and flags of a panel against the reference version it was computed with."""

    __tablename__ = "results"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    panel_id: Mapped[str] = mapped_column(ForeignKey("panels.id"), unique=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    reference_version: Mapped[str] = mapped_column(String(32))
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    deficient: Mapped[list[str]] = mapped_column(JSON)
    recommendations: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
