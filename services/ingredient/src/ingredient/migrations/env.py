"""Alembic environment of the ingredient service.

Runs on the connection ``MIGRATIONS.upgrade`` hands over, or else on an engine of its own
for ``sqlalchemy.url`` (``spaps_ops.db.Migrations.run_env``).
"""

from __future__ import annotations

from ingredient.catalog import models  # noqa: F401 -- registers the tables on the metadata
from ingredient.catalog.search import SEARCH_OBJECTS
from ingredient.db import Base
from ingredient.migrate import MIGRATIONS


def include_object(
    _obj: object, name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """Leave the dialect-specific search objects (created by 0001 only) to the migrations."""
    return not (name or "").startswith(SEARCH_OBJECTS)


MIGRATIONS.run_env(Base.metadata, include_object=include_object)
