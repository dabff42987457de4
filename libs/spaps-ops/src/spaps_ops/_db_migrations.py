"""Alembic from code: migration status (current vs head) as a health check, and running
upgrades and downgrades on an async engine (CLIs, tests, start-up)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ._errors import SpapsOpsError
from ._health import HealthCheck


class MigrationsPendingError(SpapsOpsError):
    """The database is behind the head revision, or diverged from the scripts."""


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where the database is against the migration scripts.

    Attributes:
        current: the revisions the database is at (empty: never migrated).
        heads: the head revisions of the scripts.
        unknown: the revisions of ``current`` the scripts do not hold (a newer release
            migrated the database).
        pending: the revisions an upgrade to the heads would apply, oldest first: every
            revision of the scripts that is not ``current`` nor below it (all of them
            when the database was never migrated; none when it is current). Only the
            revisions of ``current`` the scripts know count: a database at revisions
            the scripts all lack (*ahead*: a newer release migrated it past all of
            theirs) has none pending; a *divergent* one lists what the scripts hold
            beyond its known revisions.

    :meth:`as_dict` (the details ``/health`` shows) leaves ``pending`` out: the check
    shows them for a database that passes (current, or ahead), and its error names the
    revisions of one that does not.

    .. versionchanged:: 0.4.0 ``unknown`` and :attr:`state`.
    .. versionchanged:: 0.6.0 ``pending``.
    """

    current: tuple[str, ...]
    heads: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at every head."""
        return set(self.current) == set(self.heads)

    @property
    def state(self) -> Literal["current", "behind", "ahead", "divergent"]:
        """``current`` (at every head); ``behind`` (migrations pending, or never
        migrated); ``ahead`` (it holds revisions the scripts do not know, and every
        revision they do know is a head: a newer release migrated it, the expand step of
        an expand/contract migration); ``divergent`` (an unknown revision next to a known
        one that is not a head: pending here, and migrated by something else)."""
        if self.up_to_date:
            return "current"
        if not self.unknown:
            return "behind"
        known = set(self.current) - set(self.unknown)
        return "ahead" if known <= set(self.heads) else "divergent"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "current": list(self.current),
            "heads": list(self.heads),
            "up_to_date": self.up_to_date,
        }


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _pending(
    script: ScriptDirectory, newest_first: list[str], known: tuple[str, ...]
) -> tuple[str, ...]:
    """The revisions of ``script`` neither in ``known`` nor below it, oldest first."""
    # Everything below the known revisions, rather than the path from them up to the
    # heads: a branch the database never started (another base) is pending too.
    applied = {s.revision for s in script.iterate_revisions(known, "base")} if known else set()
    return tuple(rev for rev in reversed(newest_first) if rev not in applied)


async def migration_status(engine: AsyncEngine, script_location: str | Path) -> MigrationStatus:
    """Compare the database's revision with the head(s) of the migration scripts.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory (holding ``versions/``).
    """
    script = ScriptDirectory(str(script_location))
    heads = tuple(script.get_heads())
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    newest_first = [s.revision for s in script.walk_revisions()]  # topological order
    unknown = tuple(rev for rev in current if rev not in newest_first)
    known = tuple(rev for rev in current if rev in newest_first)
    # Only unknown revisions: a newer release migrated the database past every one of
    # ours (the "ahead" state), so none is pending.
    pending = () if unknown and not known else _pending(script, newest_first, known)
    return MigrationStatus(current=current, heads=heads, unknown=unknown, pending=pending)


def migration_check(
    engine: AsyncEngine, script_location: str | Path, *, allow_ahead: bool = True
) -> HealthCheck:
    """A readiness check failing while migrations are pending; ``/health`` shows the
    revisions. Register it with ``get_ops(app).add_check("migrations", ...)``.

    A database *ahead* of the scripts (see :attr:`MigrationStatus.state`) passes: during
    a release the new version migrates the database while the old pods still serve, and
    they must stay ready (the migrations are written expand/contract, so the old code
    runs on the expanded schema). Its details then read ``"state": "ahead"`` and list
    the ``unknown`` revisions. Behind or divergent fails.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory.
        allow_ahead: ``False`` fails an ahead database too (exactly the head).

    .. versionchanged:: 0.4.0 an ahead database passes unless ``allow_ahead=False``.
    """

    async def check() -> Mapping[str, Any]:
        status = await migration_status(engine, script_location)
        state = status.state
        if state == "current":
            return status.as_dict()
        if state == "ahead" and allow_ahead:
            return {**status.as_dict(), "state": state, "unknown": list(status.unknown)}
        if state == "behind":
            raise MigrationsPendingError(
                f"database at {list(status.current)}, scripts at {list(status.heads)}"
            )
        raise MigrationsPendingError(
            f"database {state}: at {list(status.current)}, scripts at "
            f"{list(status.heads)}, unknown to them {list(status.unknown)}"
        )

    return check


def _config(script_location: str | Path, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    return config


async def upgrade_database(
    engine: AsyncEngine, script_location: str | Path, revision: str = "head"
) -> MigrationStatus:
    """Run ``alembic upgrade`` to ``revision`` in one transaction on ``engine``.

    The scripts' ``env.py`` must run on the connection handed over in
    ``context.config.attributes["connection"]`` (the Alembic cookbook's "sharing a
    connection" recipe); Alembic runs synchronously, so it runs inside ``run_sync``.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory (holding ``env.py`` and ``versions/``).
        revision: target revision.

    Returns:
        The status afterwards.
    """
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(_config(script_location, sync), revision))
    return await migration_status(engine, script_location)


async def downgrade_database(
    engine: AsyncEngine, script_location: str | Path, revision: str = "base"
) -> MigrationStatus:
    """Run ``alembic downgrade`` to ``revision``; see :func:`upgrade_database`.

    Args:
        engine: the database.
        script_location: the Alembic scripts directory.
        revision: target revision (``"base"``: undo every migration).

    Returns:
        The status afterwards.
    """
    async with engine.begin() as conn:
        await conn.run_sync(
            lambda sync: command.downgrade(_config(script_location, sync), revision)
        )
    return await migration_status(engine, script_location)
