"""Alembic environment of the ingredient service.

Runs on the connection ``MIGRATIONS.upgrade`` hands over, or else on an engine of its own
for ``sqlalchemy.url`` (``spaps_ops.db.Migrations.run_env``).
"""

from __future__ import annotations

from ingredient.catalog import models  # noqa: F401 -- registers the tables on the metadata
from ingredient.catalog.search import not_a_search_object
from ingredient.db import Base
from ingredient.migrate import MIGRATIONS

MIGRATIONS.run_env(Base.metadata, include_object=not_a_search_object)
