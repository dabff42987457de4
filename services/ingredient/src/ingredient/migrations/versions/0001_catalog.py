"""Catalog: ingredients with composition per 100 g, and full-text search.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NUMBERS = (
    "energy_kj", "water_g", "protein_g", "fat_g", "carbohydrate_g", "fibre_g",
    "calcium_mg", "magnesium_mg", "sodium_mg", "potassium_mg", "phosphorus_mg", "iron_mg",
    "zinc_mg", "copper_mg", "manganese_mg", "selenium_mg", "chromium_mg", "molybdenum_mg",
)  # fmt: skip

# SQLite: an external-content FTS5 index kept in sync by triggers.
_SQLITE_UP = (
    """CREATE VIRTUAL TABLE ingredients_fts USING fts5(
        name, scientific_name, food_group, local_names,
        content='ingredients', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER ingredients_fts_ai AFTER INSERT ON ingredients BEGIN
        INSERT INTO ingredients_fts(rowid, name, scientific_name, food_group, local_names)
        VALUES (new.id, new.name, new.scientific_name, new.food_group, new.local_names);
    END""",
    """CREATE TRIGGER ingredients_fts_ad AFTER DELETE ON ingredients BEGIN
        INSERT INTO ingredients_fts(ingredients_fts, rowid, name, scientific_name, food_group,
                                    local_names)
        VALUES ('delete', old.id, old.name, old.scientific_name, old.food_group, old.local_names);
    END""",
    """CREATE TRIGGER ingredients_fts_au AFTER UPDATE ON ingredients BEGIN
        INSERT INTO ingredients_fts(ingredients_fts, rowid, name, scientific_name, food_group,
                                    local_names)
        VALUES ('delete', old.id, old.name, old.scientific_name, old.food_group, old.local_names);
        INSERT INTO ingredients_fts(rowid, name, scientific_name, food_group, local_names)
        VALUES (new.id, new.name, new.scientific_name, new.food_group, new.local_names);
    END""",
    "INSERT INTO ingredients_fts(ingredients_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS ingredients_fts_au",
    "DROP TRIGGER IF EXISTS ingredients_fts_ad",
    "DROP TRIGGER IF EXISTS ingredients_fts_ai",
    "DROP TABLE IF EXISTS ingredients_fts",
)
# PostgreSQL: a generated, weighted tsvector with a GIN index.
_POSTGRES_UP = (
    """ALTER TABLE ingredients ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(scientific_name, '')), 'B')
        || setweight(to_tsvector('english', coalesce(food_group, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(local_names, '')), 'D')
    ) STORED""",
    "CREATE INDEX ix_ingredients_search_vector ON ingredients USING gin (search_vector)",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_ingredients_search_vector",
    "ALTER TABLE ingredients DROP COLUMN IF EXISTS search_vector",
)


def upgrade() -> None:
    op.create_table(
        "ingredients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scientific_name", sa.String(length=200), nullable=True),
        sa.Column("local_names", sa.Text(), nullable=True),
        sa.Column("food_group", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in _NUMBERS),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingredients")),
        sa.UniqueConstraint("code", name=op.f("uq_ingredients_code")),
    )
    op.create_index(op.f("ix_ingredients_name"), "ingredients", ["name"])
    op.create_index(op.f("ix_ingredients_food_group"), "ingredients", ["food_group"])
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_UP, "postgresql": _POSTGRES_UP}.get(dialect, ())
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRES_DOWN}.get(dialect, ())
    for statement in statements:
        op.execute(statement)
    op.drop_index(op.f("ix_ingredients_food_group"), table_name="ingredients")
    op.drop_index(op.f("ix_ingredients_name"), table_name="ingredients")
    op.drop_table("ingredients")
