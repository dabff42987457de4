"""Alembic migrations, run from code (the CLI, the tests, the demo).

The migration scripts live in the package's ``migrations/`` directory (so they ship in the
wheel); spaps-ops runs them (``MIGRATIONS.upgrade(database_url)``, ``.downgrade``,
``.status``, ``.head_revision()``) on engines configured like the app's.
"""

from __future__ import annotations

from pathlib import Path

from spaps_ops.db import Migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATIONS = Migrations(MIGRATIONS_DIR)
