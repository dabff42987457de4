"""The apps the services benchmark serves; each is an ASGI factory for ``uvicorn --factory``.

* ``htma`` and ``ingredient``: the service's own ``create_app``, configured from the
  environment (``HTMA_*``/``INGREDIENT_*``) the driver sets. Which code that is depends
  on ``PYTHONPATH``: the workspace's (the layered services), or the 0.4.0 source the
  driver extracted from git ahead of it (the services as released, wired with FastAPI
  dependencies).
* ``htma_bare`` and ``ingredient_bare`` (references): the route's query and response
  model on bare FastAPI, nothing in front.
* ``htma_template`` and ``ingredient_template``: the same route over the same database
  on the usual template stack, as ``bench/backbone/_apps.py`` builds it --
  asgi-correlation-id, prometheus-fastapi-instrumentator, a ``BaseHTTPMiddleware``
  security-headers middleware, a sync (``def``) PyJWT dependency and slowapi on Redis --
  with the service's own query and response model, so only the stack differs. The
  template checks what templates check: the token (htma's signing key from its key file;
  for ingredient htma's JWKS through ``PyJWKClient``) and, for htma, that the user still
  exists (the template's ``get_current_user``), then filters by the token's clinic.

``htma_stack`` and ``ingredient_stack`` (references): the service's app with one more
route in front of the measured one, at the same path, with the same route dependencies
(the session, the caller, the plan limit) and no query: it answers an empty body. The
request crosses the whole stack and FastAPI's dependency resolution; what the measured
route costs beyond it is its query and response. The extra route matches first, so its
routing is a little cheaper than the real route's.

``htma_layers`` and ``ingredient_layers``: the service with a timer between each of its
layers (``_layers.py``), driven one request at a time.

The services' apps answer ``GET /bench/cache`` with their verifier's cache statistics
(``CacheProbe`` from ``bench/backbone/_probe.py``, outermost).

Configuration: ``BENCH_REDIS_URL``, ``BENCH_PREFIX`` (the template's slowapi namespace),
``HTMA_DATABASE_URL``, ``HTMA_SIGNING_KEYS_PATH``, ``INGREDIENT_DATABASE_URL``,
``INGREDIENT_HTMA_JWKS_URL``.
"""

# ruff: noqa: PLC0415 -- each factory imports only its own service, when uvicorn calls it:
# which code that is is the case's choice (PYTHONPATH), and one service's half-converted
# tree must not stop the other's cases.

# No ``from __future__ import annotations``: slowapi wraps the templates' endpoints, and
# FastAPI must read the wrapped functions' annotations as objects, not strings.

import atexit
import inspect
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import jwt
from _layers import timed
from _probe import CacheProbe
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_fastapi_instrumentator import Instrumentator
from slowapi import Limiter as SlowLimiter
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from spaps_auth import TokenVerifier
from spaps_auth.fastapi import get_auth
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp

HIGH = 1_000_000_000  # requests per hour: never reached in a benchmark run

_LOG_STREAM = open(os.devnull, "w")  # noqa: SIM115 -- lives as long as the process
atexit.register(_LOG_STREAM.close)


def _verifier_of(app: FastAPI) -> TokenVerifier:
    return get_auth(StarletteRequest({"type": "http", "app": app})).authenticator.verifier


def _probed(app: FastAPI) -> ASGIApp:
    return CacheProbe(app, lambda: _verifier_of(app))


def htma() -> ASGIApp:
    """htma's app (whichever ``htma`` is first on the path), logs discarded."""
    from htma import create_app

    return _probed(create_app(log_stream=_LOG_STREAM))


def ingredient() -> ASGIApp:
    """ingredient's app (whichever ``ingredient`` is first on the path), logs discarded."""
    from ingredient import create_app

    return _probed(create_app(log_stream=_LOG_STREAM))


async def _security_headers(request: Request, call_next: Any) -> Any:
    response = await call_next(request)
    response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


#: The bare reference's pool: the services' (spaps-ops' default), so that the floor it
#: stands for opens no connection under load. The template keeps SQLAlchemy's default
#: (5, plus 10 overflow connections closed when returned), as templates write it.
BARE_POOL = {"pool_size": 20, "max_overflow": 10}


def _bare_shell(
    url: str, pool: dict[str, int] | None = None
) -> tuple[FastAPI, None, async_sessionmaker[AsyncSession]]:
    """FastAPI and sessions on ``url`` (the engine is disposed at shutdown)."""
    engine = create_async_engine(
        url.replace("postgresql://", "postgresql+asyncpg://", 1), **(pool or {})
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return FastAPI(lifespan=lifespan), None, sessions


def _template_shell(url: str) -> tuple[FastAPI, SlowLimiter, async_sessionmaker[AsyncSession]]:
    """The template's app, limiter and sessions."""
    app, _, sessions = _bare_shell(url)
    limiter = SlowLimiter(
        key_func=get_remote_address,
        storage_uri=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        key_prefix=os.environ.get("BENCH_PREFIX", "bench:services:") + "slowapi",
    )
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]  # slowapi's handler is narrower than Starlette's type
    app.add_middleware(BaseHTTPMiddleware, dispatch=_security_headers)
    app.add_middleware(CorrelationIdMiddleware)
    Instrumentator().instrument(app).expose(app)
    return app, limiter, sessions


def htma_template() -> FastAPI:
    """``GET /v1/panels`` (a practitioner lists the clinic's panels) on the template stack."""
    from htma.accounts.models import User
    from htma.identity.keystore import SigningKeyStore
    from htma.panels.models import Panel
    from htma.panels.schemas import PanelOut

    keys = SigningKeyStore(Path(os.environ["HTMA_SIGNING_KEYS_PATH"])).load()
    public = {key.kid: key.verifying_key for key in keys}
    bearer = HTTPBearer()
    app, limiter, sessions = _template_shell(os.environ["HTMA_DATABASE_URL"])

    def current_claims(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> dict[str, Any]:
        # A sync dependency, as templates write it: FastAPI runs it in the thread pool.
        token = credentials.credentials
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            claims: dict[str, Any] = jwt.decode(
                token, public[kid], algorithms=["EdDSA"], audience="spaps", issuer="htma"
            )
        except (jwt.PyJWTError, KeyError) as error:
            raise HTTPException(401, "Could not validate credentials") from error
        return claims

    @app.get("/v1/panels", response_model=list[PanelOut])
    @limiter.limit(f"{HIGH}/hour")
    async def list_panels(
        request: Request, claims: Annotated[dict[str, Any], Depends(current_claims)]
    ) -> list[PanelOut]:
        async with sessions() as session:
            user = await session.get(User, claims["sub"])
            if user is None:
                raise HTTPException(404, "User not found")
            stmt = (
                select(Panel)
                .where(Panel.tenant_id == claims["clinic"])
                .order_by(Panel.created_at.desc(), Panel.id)
                .limit(20)
            )
            return [PanelOut.of(p) for p in await session.scalars(stmt)]

    return app


def ingredient_template() -> FastAPI:
    """``GET /v1/ingredients/{code}`` on the template stack, htma's keys through PyJWKClient."""
    from ingredient.catalog import service
    from ingredient.catalog.schemas import IngredientDetail

    jwks = jwt.PyJWKClient(os.environ["INGREDIENT_HTMA_JWKS_URL"])
    bearer = HTTPBearer()
    app, limiter, sessions = _template_shell(os.environ["INGREDIENT_DATABASE_URL"])

    def current_claims(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> dict[str, Any]:
        token = credentials.credentials
        try:
            key = jwks.get_signing_key_from_jwt(token).key
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["EdDSA"], audience="spaps", issuer="htma"
            )
        except jwt.PyJWTError as error:
            raise HTTPException(401, "Could not validate credentials") from error
        return claims

    @app.get("/v1/ingredients/{code}", response_model=IngredientDetail)
    @limiter.limit(f"{HIGH}/hour")
    async def get_ingredient(
        request: Request, code: str, claims: Annotated[dict[str, Any], Depends(current_claims)]
    ) -> IngredientDetail:
        async with sessions() as session:
            return IngredientDetail.of(await service.get_ingredient(session, code))

    return app


def htma_bare() -> FastAPI:
    """Reference: the route's query and response model on bare FastAPI (clinic fixed, no
    token): what the stack in front of it adds is the rest of a request's cost."""
    from htma.panels.models import Panel
    from htma.panels.schemas import PanelOut

    app, _, sessions = _bare_shell(os.environ["HTMA_DATABASE_URL"], BARE_POOL)
    clinic = os.environ["BENCH_CLINIC"]

    @app.get("/v1/panels", response_model=list[PanelOut])
    async def list_panels() -> list[PanelOut]:
        async with sessions() as session:
            stmt = (
                select(Panel)
                .where(Panel.tenant_id == clinic)
                .order_by(Panel.created_at.desc(), Panel.id)
                .limit(20)
            )
            return [PanelOut.of(p) for p in await session.scalars(stmt)]

    return app


def ingredient_bare() -> FastAPI:
    """Reference: ingredient's query and response model on bare FastAPI (no token)."""
    from ingredient.catalog import service
    from ingredient.catalog.schemas import IngredientDetail

    app, _, sessions = _bare_shell(os.environ["INGREDIENT_DATABASE_URL"], BARE_POOL)

    @app.get("/v1/ingredients/{code}", response_model=IngredientDetail)
    async def get_ingredient(code: str) -> IngredientDetail:
        async with sessions() as session:
            return IngredientDetail.of(await service.get_ingredient(session, code))

    return app


def _in_front(app: FastAPI, router: APIRouter) -> FastAPI:
    """``app`` with ``router``'s routes ahead of its own (the first match wins)."""
    app.router.routes[:0] = router.routes
    return app


def _without_query(route: Callable[..., Any], empty: object) -> Callable[..., Any]:
    """An endpoint taking ``route``'s parameters, so that FastAPI resolves the same
    dependencies and parameters for it, that answers ``empty`` without running anything."""

    async def endpoint(**_: Any) -> object:
        return empty

    signature = inspect.signature(route, eval_str=True)
    endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]  # read by FastAPI
        return_annotation=inspect.Signature.empty
    )
    return endpoint


def htma_stack() -> ASGIApp:
    """htma's stack and ``GET /v1/panels``' dependencies in front of an endpoint without
    its query (an empty page)."""
    from htma import Settings, create_app
    from htma.limits import clinic_limit
    from htma.panels.router import list_panels
    from htma.panels.schemas import PanelOut

    app = create_app(log_stream=_LOG_STREAM)
    router = APIRouter(dependencies=[Depends(clinic_limit(Settings().plans))])
    router.add_api_route(
        "/v1/panels", _without_query(list_panels, []), response_model=list[PanelOut]
    )
    return _probed(_in_front(app, router))


def ingredient_stack() -> ASGIApp:
    """ingredient's stack and ``GET /v1/ingredients/{code}``'s dependencies in front of an
    endpoint without its query (an empty body)."""
    from ingredient import Settings, create_app
    from ingredient.access import plan_limit, reader
    from ingredient.catalog.router import get_ingredient

    app = create_app(log_stream=_LOG_STREAM)
    router = APIRouter(dependencies=[Depends(reader), Depends(plan_limit(Settings().plans))])
    router.add_api_route("/v1/ingredients/{code}", _without_query(get_ingredient, {}))
    return _probed(_in_front(app, router))


def htma_layers() -> ASGIApp:
    """htma with a timer between each of its layers (``_layers.py``)."""
    from htma import create_app

    return timed(create_app(log_stream=_LOG_STREAM))


def ingredient_layers() -> ASGIApp:
    """ingredient with a timer between each of its layers (``_layers.py``)."""
    from ingredient import create_app

    return timed(create_app(log_stream=_LOG_STREAM))
