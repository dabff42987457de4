"""Catalog tables: ingredients with nutrient and mineral content per 100 g.

Units are part of every column name: ``_kj`` kilojoules, ``_g`` grams and ``_mg``
milligrams, all per 100 g edible portion. ``None`` means "not analysed".
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ingredient.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class Ingredient(Base):
    """A food with its composition per 100 g edible portion."""

    __tablename__ = "ingredients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    scientific_name: Mapped[str | None] = mapped_column(String(200))
    local_names: Mapped[str | None] = mapped_column(Text)
    food_group: Mapped[str | None] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(32), default="ifct2017")

    energy_kj: Mapped[float | None] = mapped_column(Float)
    water_g: Mapped[float | None] = mapped_column(Float)
    protein_g: Mapped[float | None] = mapped_column(Float)
    fat_g: Mapped[float | None] = mapped_column(Float)
    carbohydrate_g: Mapped[float | None] = mapped_column(Float)
    fibre_g: Mapped[float | None] = mapped_column(Float)

    calcium_mg: Mapped[float | None] = mapped_column(Float)
    magnesium_mg: Mapped[float | None] = mapped_column(Float)
    sodium_mg: Mapped[float | None] = mapped_column(Float)
    potassium_mg: Mapped[float | None] = mapped_column(Float)
    phosphorus_mg: Mapped[float | None] = mapped_column(Float)
    iron_mg: Mapped[float | None] = mapped_column(Float)
    zinc_mg: Mapped[float | None] = mapped_column(Float)
    copper_mg: Mapped[float | None] = mapped_column(Float)
    manganese_mg: Mapped[float | None] = mapped_column(Float)
    selenium_mg: Mapped[float | None] = mapped_column(Float)
    chromium_mg: Mapped[float | None] = mapped_column(Float)
    molybdenum_mg: Mapped[float | None] = mapped_column(Float)

    # Optimistic locking: an UPDATE carries "WHERE version = <read version>".
    version: Mapped[int] = mapped_column(Integer)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 -- SQLAlchemy reads a plain dict
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )


NUTRIENT_COLUMNS: tuple[str, ...] = (
    "energy_kj",
    "water_g",
    "protein_g",
    "fat_g",
    "carbohydrate_g",
    "fibre_g",
)
