"""Catalog tables: ingredients with nutrient and mineral content per 100 g.

Units are part of every column name: ``_kj`` kilojoules, ``_g`` grams and ``_mg``
milligrams, all per 100 g edible portion. ``None`` means "not analysed".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
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


class CatalogEditor(Base):
    """A holder of the platform permission to edit the shared catalog.

    Granted to an htma user (the token ``sub``) by an operator command, never by a
    tenant role: every clinic reads the same catalog, so no clinic's admin may change it.
    """

    __tablename__ = "catalog_editors"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CatalogEditorEvent(Base):
    """Audit of the permission: who granted or revoked it to whom, and when."""

    __tablename__ = "catalog_editor_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))  # "granted" or "revoked"
    subject: Mapped[str] = mapped_column(String(255), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CatalogEdit(Base):
    """One change of an ingredient: who, when, the fields' values before and after.

    ``reverts`` names the edit a revert undid (a revert is an edit like any other).
    """

    __tablename__ = "catalog_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    reverts: Mapped[int | None] = mapped_column(Integer)
