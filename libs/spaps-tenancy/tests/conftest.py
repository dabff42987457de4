"""Fixtures of the spaps-tenancy suite: a small tenant-scoped schema and session factories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from spaps_tenancy import TenantScoped, TenantSession, install_tenant_filter
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)


class Base(DeclarativeBase):
    pass


class Plan(Base):
    """A global (not tenant-scoped) table."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


class Patient(TenantScoped, Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    score: Mapped[int] = mapped_column(default=0)
    notes: Mapped[list[Note]] = relationship(back_populates="patient", cascade="all, delete-orphan")


class Note(TenantScoped, Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    body: Mapped[str] = mapped_column(String(200))
    patient: Mapped[Patient] = relationship(back_populates="notes")


class AppSession(TenantSession):
    """The session class the filter is installed on (never the global ``Session``)."""


install_tenant_filter(AppSession)


@pytest.fixture
def orm() -> SimpleNamespace:
    """The test schema: ``Base``, ``Plan`` (global), ``Patient`` and ``Note`` (tenant-scoped)."""
    return SimpleNamespace(Base=Base, Plan=Plan, Patient=Patient, Note=Note, Session=AppSession)


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    """An in-memory SQLite database with the schema created."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_session(sqlite_engine: Engine) -> Callable[[], Session]:
    """Factory of filtered sessions on the SQLite database."""
    return sessionmaker(sqlite_engine, class_=AppSession, expire_on_commit=False)


def _psql(dsn: str, sql: str) -> None:
    subprocess.run(
        ["psql", dsn, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def app_role(postgres_url: str, unique_name: str) -> Iterator[str]:
    """A NON-owner login role in the test database; yields its ``postgresql://`` URL.

    Owners and superusers bypass row-level security, so RLS is only proven through such a
    role. Grants on tables and sequences created later are given by ``grant_app_role``.
    """
    role = unique_name + "_app"
    _psql(postgres_url, f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
    parts = urlsplit(postgres_url)
    url = parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}").geturl()
    try:
        yield url
    finally:
        _psql(postgres_url, f'DROP OWNED BY "{role}"')
        _psql(postgres_url, f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def grant_app_role(postgres_url: str, app_role: str) -> Callable[[], None]:
    """Grant the app role DML on every table and sequence of the test database."""
    role = urlsplit(app_role).username

    def grant() -> None:
        _psql(
            postgres_url,
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}";'
            f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        )

    return grant


def with_driver(url: str, driver: str) -> str:
    """Rewrite a ``postgresql://`` URL for a SQLAlchemy driver (``psycopg``, ``asyncpg``)."""
    return url.replace("postgresql://", f"postgresql+{driver}://", 1)


@pytest.fixture
def pg_url() -> Callable[[str, str], str]:
    """``with_driver`` as a fixture (test files cannot import each other)."""
    return with_driver
