"""Database resources on SQLite (embedded default) and the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from spaps_ops import OpsNotConfiguredError
from spaps_ops.db import (
    INCLUDE_DELETED,
    Database,
    SessionDep,
    SoftDeleteMixin,
    VersionedMixin,
    async_url,
    get_database,
    migration_check,
    migration_status,
    new_metadata,
    use_database,
)
from sqlalchemy import ForeignKey, String, Table, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


class Base(DeclarativeBase):
    metadata = new_metadata()


class Folder(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(primary_key=True)


class Note(VersionedMixin, SoftDeleteMixin, Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id"), default=None)


class NoteIn(BaseModel):
    text: str
    version: int


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'app.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield db
    await db.aclose()


def test_async_url_rewrites_drivers() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert async_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert async_url("postgresql://u@h:5433/db") == "postgresql+asyncpg://u@h:5433/db"
    assert async_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_naming_convention() -> None:
    table = Note.__table__
    assert isinstance(table, Table)  # what the declarative base made of the class
    assert table.primary_key.name == "pk_notes"
    (fk,) = table.foreign_keys
    assert fk.constraint is not None
    assert fk.constraint.name == "fk_notes_folder_id_folders"


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert db.backend == "sqlite"
    finally:
        await db.aclose()


async def test_foreign_keys_enforced(database: Database) -> None:
    async with database.session() as session:
        session.add(Note(text="orphan", folder_id=999))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_in_memory_sqlite_is_shared_between_sessions() -> None:
    db = Database("sqlite://")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with db.session() as session:
            session.add(Note(text="kept"))
            await session.commit()
        async with db.session() as session:
            assert (await session.scalars(select(Note.text))).all() == ["kept"]
    finally:
        await db.aclose()


async def test_stale_write_raises(database: Database) -> None:
    async with database.session() as setup:
        setup.add(Note(text="v1"))
        await setup.commit()
    async with database.session() as first, database.session() as second:
        a = (await first.scalars(select(Note))).one()
        b = (await second.scalars(select(Note))).one()
        assert a.version_id == b.version_id == 1
        a.text = "from first"
        await first.commit()
        assert a.version_id == 2
        b.text = "from second"
        with pytest.raises(StaleDataError):
            await second.commit()


async def test_soft_delete_hides_rows(database: Database) -> None:
    async with database.session() as session:
        session.add_all([Note(text="keep"), Note(text="drop")])
        await session.commit()
        drop = (await session.scalars(select(Note).where(Note.text == "drop"))).one()
        drop.soft_delete()
        assert drop.is_deleted
        await session.commit()
    async with database.session() as session:
        visible = (await session.scalars(select(Note.text).order_by(Note.text))).all()
        assert visible == ["keep"]
        assert (await session.scalars(select(Note))).all()[0].text == "keep"
        assert await session.scalar(select(func.count()).select_from(Note)) == 1
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 2  # still stored
        every = await session.scalars(
            select(Note).order_by(Note.text).execution_options(**{INCLUDE_DELETED: True})
        )
        rows = every.all()
        assert [n.text for n in rows] == ["drop", "keep"]
        assert isinstance(rows[0].deleted_at, datetime)
        rows[0].restore()
        await session.commit()
    async with database.session() as session:
        assert len((await session.scalars(select(Note))).all()) == 2


def build_app(make_app: Callable[..., FastAPI], database: Database) -> FastAPI:
    app = make_app()
    use_database(app, database)

    @app.post("/notes", status_code=201)
    async def create(body: NoteIn, session: SessionDep) -> dict[str, int]:
        note = Note(text=body.text)
        session.add(note)
        await session.commit()
        return {"id": note.id, "version": note.version_id}

    @app.put("/notes/{note_id}")
    async def update(note_id: int, body: NoteIn, session: SessionDep) -> dict[str, int]:
        note = await session.get_one(Note, note_id)
        note.expect_version(body.version)
        note.text = body.text
        await session.commit()
        return {"id": note.id, "version": note.version_id}

    @app.put("/notes/{note_id}/race")
    async def race(note_id: int, body: NoteIn, session: SessionDep) -> dict[str, int]:
        note = await session.get_one(Note, note_id)
        async with get_database(app).session() as other:  # a concurrent writer wins
            winner = await other.get_one(Note, note_id)
            winner.text = "winner"
            await other.commit()
        note.text = body.text
        await session.commit()  # StaleDataError -> 409
        return {"id": note.id, "version": note.version_id}

    return app


async def test_app_routes_with_optimistic_locking(
    make_app: Callable[..., FastAPI], make_client: Client, database: Database
) -> None:
    client = await make_client(build_app(make_app, database))
    created = await client.post("/notes", json={"text": "a", "version": 0})
    assert created.status_code == 201
    note = created.json()
    assert note["version"] == 1
    updated = await client.put(f"/notes/{note['id']}", json={"text": "b", "version": 1})
    assert updated.json()["version"] == 2
    stale = await client.put(f"/notes/{note['id']}", json={"text": "c", "version": 1})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "ops.stale_write"
    raced = await client.put(f"/notes/{note['id']}/race", json={"text": "loser", "version": 2})
    assert raced.status_code == 409
    assert raced.json()["code"] == "ops.stale_write"
    assert raced.json()["request_id"] == raced.headers["x-request-id"]
    ready = await client.get("/health/ready")
    assert ready.json() == {"status": "ok", "checks": ["database"]}


async def test_database_is_disposed_at_shutdown(
    make_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    from asgi_lifespan import LifespanManager  # noqa: PLC0415  # only this test drives it

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    app = make_app()
    use_database(app, db)
    closed: list[bool] = []
    event.listen(db.engine.sync_engine, "close", lambda *_: closed.append(True))
    async with LifespanManager(app):
        await db.ping()  # leaves one pooled connection open
        assert closed == []
    assert closed == [True]  # the pool was disposed at shutdown


def test_session_dependency_fails_loudly_without_use_database(
    make_app: Callable[..., FastAPI],
) -> None:
    with pytest.raises(OpsNotConfiguredError, match="use_database"):
        get_database(make_app())


async def _passes(check: Any) -> bool:
    try:
        await check()
    except Exception:  # any failure means the check fails
        return False
    return True


MIGRATION = """
revision = "{rev}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
"""


def write_scripts(path: Path, revisions: list[str]) -> Path:
    versions = path / "versions"
    versions.mkdir(parents=True)
    down = None
    for rev in revisions:
        (versions / f"{rev}_step.py").write_text(MIGRATION.format(rev=rev, down=repr(down)))
        down = rev
    return path


async def test_migration_status_in_health(
    make_app: Callable[..., FastAPI],
    make_client: Client,
    database: Database,
    tmp_path: Path,
) -> None:
    scripts = write_scripts(tmp_path / "migrations", ["0001", "0002"])
    status = await migration_status(database.engine, scripts)
    assert not await _passes(migration_check(database.engine, scripts))
    assert status.current == ()
    assert status.heads == ("0002",)
    assert not status.up_to_date

    app = make_app()
    use_database(app, database, migrations=scripts)
    client = await make_client(app)
    pending = await client.get("/health")
    assert pending.status_code == 503
    assert pending.json()["checks"]["migrations"]["error"] == (
        "MigrationsPendingError: database at [], scripts at ['0002']"
    )
    assert (await client.get("/health/ready")).json()["failing_checks"] == ["migrations"]
    assert (await client.get("/health")).json()["checks"]["database"]["status"] == "ok"

    async with database.engine.begin() as conn:  # what `alembic upgrade head` leaves behind
        await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        await conn.execute(text("INSERT INTO alembic_version VALUES ('0002')"))
    done = await client.get("/health")
    assert done.status_code == 200
    assert await _passes(migration_check(database.engine, scripts))
    assert done.json()["checks"]["migrations"]["details"] == {
        "current": ["0002"],
        "heads": ["0002"],
        "up_to_date": True,
    }
