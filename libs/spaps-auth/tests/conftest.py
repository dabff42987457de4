"""Fixtures for the spaps-auth suite: databases, keys, and a tiny app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from spaps_auth import (
    Authenticator,
    JsonWebKey,
    KeySet,
    PermissionRegistry,
    TokenIssuer,
    TokenVerifier,
    create_tables,
)
from spaps_auth.fastapi import install_error_handlers, setup_auth
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite (aiosqlite) engine with the spaps-auth tables."""
    eng = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")
    await create_tables(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL (asyncpg) engine on a fresh database with the spaps-auth tables."""
    eng = create_async_engine(postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    await create_tables(eng)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def ed_key() -> JsonWebKey:
    return JsonWebKey.generate("EdDSA", kid="ed-1")


@pytest.fixture(scope="session")
def rsa_key() -> JsonWebKey:
    return JsonWebKey.generate("RS256", kid="rsa-1")


@pytest.fixture
def keys(ed_key: JsonWebKey) -> KeySet:
    return KeySet([ed_key])


@pytest.fixture
def issuer(keys: KeySet) -> TokenIssuer:
    return TokenIssuer(keys=keys, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def verifier(keys: KeySet) -> TokenVerifier:
    return TokenVerifier(
        keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA", "RS256", "HS256"]
    )


@pytest.fixture
def registry() -> PermissionRegistry:
    reg = PermissionRegistry()
    reg.permission("notes:read")
    reg.permission("notes:write")
    reg.permission("admin:all")
    reg.role("reader", ["notes:read"])
    reg.role("writer", ["notes:write"], inherits=["reader"])
    reg.role("admin", ["admin:all"], inherits=["writer"])
    return reg


@pytest.fixture
def make_client() -> Callable[[FastAPI], httpx.AsyncClient]:
    """Build an httpx client over a real ASGI app (closed by the test's ``async with``)."""

    def factory(app: FastAPI) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    return factory


@pytest.fixture
def make_app(verifier: TokenVerifier, registry: PermissionRegistry) -> Callable[..., FastAPI]:
    """A tiny app with spaps-auth set up and the error handlers installed."""

    def factory(**components: object) -> FastAPI:
        app = FastAPI()
        authenticator = components.pop("authenticator", None) or Authenticator(
            verifier=verifier,
            registry=registry,
            api_keys=components.get("api_keys"),  # type: ignore[arg-type]
        )
        setup_auth(app, authenticator=authenticator, **components)  # type: ignore[arg-type]
        install_error_handlers(app)
        return app

    return factory
