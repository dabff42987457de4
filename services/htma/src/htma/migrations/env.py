"""Alembic environment of the htma service (its models plus the spaps-auth tables).

Runs on the connection ``MIGRATIONS.upgrade`` hands over, or else on an engine of its own
for ``sqlalchemy.url`` (``spaps_ops.db.Migrations.run_env``).
"""

from __future__ import annotations

from htma.migrate import MIGRATIONS
from htma.models import Base

MIGRATIONS.run_env(Base.metadata)
