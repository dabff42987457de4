"""``Migrations``: a service's Alembic scripts run on databases given by URL, on both back
ends; ``open_engine`` and ``sync_url``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from pydantic import BaseModel, Field, ValidationError
from spaps_ops.db import (
    CommandErrors,
    Database,
    Migrations,
    MigrationsPendingError,
    downgrade_database,
    open_engine,
    sync_url,
    upgrade_database,
)
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

ENV_PY = """
from pathlib import Path

from spaps_ops.db import Migrations

Migrations(Path(__file__).parent).run_env(None)
"""

CREATE_TABLE = """
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{table}")
"""


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """Two revisions, each creating a table, and an ``env.py`` that is ``run_env``."""
    location = tmp_path / "migrations"
    (location / "versions").mkdir(parents=True)
    (location / "env.py").write_text(ENV_PY)
    for rev, down, table in (("0001", None, "first_t"), ("0002", "0001", "second_t")):
        (location / "versions" / f"{rev}.py").write_text(
            CREATE_TABLE.format(rev=rev, down=repr(down), table=table)
        )
    return location


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'app.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def _tables(database_url: str) -> set[str]:
    async with open_engine(database_url) as engine, engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


BARE_ENV_PY = """
from alembic import context

context.configure(connection=context.config.attributes["connection"], target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
"""


async def test_upgrade_and_downgrade_database_run_the_scripts(
    scripts: Path, database_url: str
) -> None:
    """The functions under ``Migrations``, with the cookbook's own ``env.py``."""
    (scripts / "env.py").write_text(BARE_ENV_PY)
    database = Database(database_url)
    try:
        status = await upgrade_database(database.engine, scripts, "0001")
        assert (status.current, status.up_to_date) == (("0001",), False)
        assert {"first_t"} <= await _tables(database_url)
        assert "second_t" not in await _tables(database_url)

        status = await upgrade_database(database.engine, scripts)
        assert status.up_to_date
        assert {"first_t", "second_t"} <= await _tables(database_url)

        status = await downgrade_database(database.engine, scripts)
        assert status.current == ()
        assert not {"first_t", "second_t"} & await _tables(database_url)
    finally:
        await database.aclose()


async def test_upgrade_status_and_downgrade_by_url(scripts: Path, database_url: str) -> None:
    migrations = Migrations(scripts)
    assert migrations.head_revision() == "0002"
    assert await migrations.current_revision(database_url) is None
    assert not (await migrations.status(database_url)).up_to_date

    partial = await migrations.upgrade(database_url, "0001")
    assert (partial.current, partial.heads, partial.up_to_date) == (("0001",), ("0002",), False)
    assert await migrations.current_revision(database_url) == "0001"
    assert {"first_t"} <= await _tables(database_url)
    assert "second_t" not in await _tables(database_url)

    done = await migrations.upgrade(database_url)
    assert done.up_to_date
    assert await migrations.current_revision(database_url) == migrations.head_revision()
    assert {"first_t", "second_t"} <= await _tables(database_url)

    undone = await migrations.downgrade(database_url)
    assert undone.current == ()
    assert await migrations.current_revision(database_url) is None
    assert not {"first_t", "second_t"} & await _tables(database_url)


async def test_the_alembic_command_runs_env_on_an_engine_of_its_own(
    scripts: Path, tmp_path: Path
) -> None:
    """Without a handed-over connection (the ``alembic`` command line), ``run_env`` opens
    an engine on the configuration's ``sqlalchemy.url``."""
    url = f"sqlite:///{tmp_path / '50%.db'}"  # a % survives the configuration's interpolation
    migrations = Migrations(scripts)
    config = migrations.alembic_config(url)
    assert config.get_main_option("sqlalchemy.url") == url
    assert ScriptDirectory.from_config(config).get_heads() == ["0002"]
    # Alembic runs synchronously and env.py starts its own event loop: not on this one.
    await asyncio.to_thread(command.upgrade, config, "head")
    assert (tmp_path / "50%.db").is_file()
    assert await migrations.current_revision(url) == "0002"


async def test_run_env_passes_configure_options(scripts: Path, tmp_path: Path) -> None:
    (scripts / "env.py").write_text(
        ENV_PY.replace(
            "run_env(None)", 'run_env(MetaData(), version_table="ops_versions")'
        ).replace(
            "from pathlib import Path", "from pathlib import Path\nfrom sqlalchemy import MetaData"
        )
    )
    url = f"sqlite:///{tmp_path / 'app.db'}"
    await Migrations(scripts).upgrade(url)
    tables = await _tables(url)
    assert {"ops_versions", "first_t", "second_t"} <= tables
    assert "alembic_version" not in tables


async def test_engine_factory_is_used_for_every_operation(scripts: Path, tmp_path: Path) -> None:
    opened: list[str] = []

    @asynccontextmanager
    async def factory(url: str) -> AsyncIterator[AsyncEngine]:
        opened.append(url)
        async with open_engine(url) as engine:
            yield engine

    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrations = Migrations(scripts, engine_factory=factory)
    await migrations.upgrade(url)
    await migrations.status(url)
    await migrations.downgrade(url)
    assert opened == [url, url, url]


def test_head_revision_without_scripts_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    with pytest.raises(RuntimeError, match="no migration scripts in"):
        Migrations(tmp_path).head_revision()


def test_engine_factory_must_be_callable(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="engine_factory must be callable"):
        Migrations(tmp_path, engine_factory="sqlite://")  # type: ignore[arg-type]


async def test_open_engine_is_configured_like_the_app_and_disposed(tmp_path: Path) -> None:
    disposed: list[bool] = []
    async with open_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}") as engine:
        event.listen(engine.sync_engine, "engine_disposed", lambda _e: disposed.append(True))
        assert engine.dialect.driver == "aiosqlite"
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        assert disposed == []
    assert disposed == [True]
    assert (tmp_path / "sub" / "x.db").is_file()


def test_sync_url_is_the_inverse_of_async_url() -> None:
    assert sync_url("sqlite+aiosqlite:///x.db") == "sqlite:///x.db"
    assert sync_url("postgresql+asyncpg://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    with pytest.raises(ValueError, match="no synchronous driver"):
        sync_url("mysql+aiomysql://h/db")


class ServiceError(Exception):
    """Stands for a service's own error root."""


def _exit_line(*kinds: type[BaseException], raised: BaseException) -> object:
    with pytest.raises(SystemExit) as exited, CommandErrors(*kinds):
        raise raised
    return exited.value.code


def test_command_errors_end_a_command_with_one_line() -> None:
    assert _exit_line(ServiceError, raised=ServiceError("no such clinic")) == (
        "error: no such clinic"
    )
    refused = ConnectionRefusedError(111, "Connect call failed")
    assert _exit_line(raised=refused) == (
        "error: ConnectionRefusedError: [Errno 111] Connect call failed"
    )
    pending = MigrationsPendingError("database at [], scripts at ['0002']")
    assert _exit_line(raised=pending) == "error: database at [], scripts at ['0002']"
    driver = OperationalError("SELECT 1", {}, Exception("server closed\nsecond line"))
    assert _exit_line(raised=driver) == "error: database error: server closed"


def test_command_errors_name_the_first_invalid_setting() -> None:
    class Settings(BaseModel):
        database_url: Annotated[str, Field(pattern="^sqlite")]

    with pytest.raises(ValidationError) as invalid:
        Settings(database_url="mysql://h/db")
    assert str(_exit_line(raised=invalid.value)).startswith(
        "error: invalid setting database_url: String should match pattern"
    )


def test_command_errors_keep_the_traceback_of_anything_else() -> None:
    with pytest.raises(KeyError), CommandErrors(ServiceError):
        raise KeyError("a bug")
    with CommandErrors():
        pass  # no failure: nothing happens
    with pytest.raises(TypeError, match="kinds must be exception types"):
        CommandErrors("ServiceError")  # type: ignore[arg-type]
