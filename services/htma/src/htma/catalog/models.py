"""Catalog changes announced by the ingredient service (``ingredient.updated.v1``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from htma.clinics.models import utcnow
from htma.db import Base, UTCDateTime


class IngredientUpdate(Base):
    """One verified ``ingredient.updated`` webhook (the ``webhook-id`` is unique)."""

    __tablename__ = "ingredient_updates"

    webhook_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
