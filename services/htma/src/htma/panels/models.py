"""Mineral panels: what a practitioner submits for a patient (values in mg%)."""

from __future__ import annotations

from datetime import date, datetime

from spaps_tenancy import TenantScoped
from sqlalchemy import Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from htma.accounts.models import new_id
from htma.clinics.models import utcnow
from htma.db import Base, UTCDateTime

#: panel symbol -> column (mg per 100 g of hair)
PANEL_COLUMNS: dict[str, str] = {
    "Ca": "calcium_mg_pct",
    "Mg": "magnesium_mg_pct",
    "Na": "sodium_mg_pct",
    "K": "potassium_mg_pct",
    "P": "phosphorus_mg_pct",
    "Zn": "zinc_mg_pct",
    "Cu": "copper_mg_pct",
    "Fe": "iron_mg_pct",
}


class Panel(TenantScoped, Base):
    """A hair-tissue mineral panel; ``status`` is ``pending`` until its result is computed."""

    __tablename__ = "panels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    practitioner_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    sampled_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    calcium_mg_pct: Mapped[float] = mapped_column(Float)
    magnesium_mg_pct: Mapped[float] = mapped_column(Float)
    sodium_mg_pct: Mapped[float] = mapped_column(Float)
    potassium_mg_pct: Mapped[float] = mapped_column(Float)
    phosphorus_mg_pct: Mapped[float] = mapped_column(Float)
    zinc_mg_pct: Mapped[float] = mapped_column(Float)
    copper_mg_pct: Mapped[float] = mapped_column(Float)
    iron_mg_pct: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def values(self) -> dict[str, float]:
        """symbol -> value in mg%."""
        return {symbol: getattr(self, column) for symbol, column in PANEL_COLUMNS.items()}
