"""Re-seal stored endpoint secrets: key rotation, and sealing or unsealing in migrations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, TableClause, column, func, select, table, update

from ._errors import SecretSealingError
from ._sealing import SEALED_PREFIX, SecretSealer, is_sealed
from ._tables import WebhookTables

ResealProgress = Callable[[int, int], None]
"""Called after each batch with ``(rows done, rows in total)``."""

_log = logging.getLogger("spaps_webhooks.sealing")
_Transform = Callable[[str, str], str | None]  # (stored value, endpoint id) -> new or None


@dataclass(frozen=True, slots=True)
class ResealReport:
    """What :func:`reseal_secrets` did.

    Attributes:
        rows: Endpoint rows looked at.
        resealed: Rows whose ``secret`` or ``previous_secret`` was rewritten.
        skipped: Rows changed concurrently (a rotation) between read and write; run
            again to cover them.
    """

    rows: int
    resealed: int
    skipped: int


def _endpoints(target: WebhookTables | str) -> TableClause:
    name = target.endpoints.name if isinstance(target, WebhookTables) else target
    return table(name, column("id"), column("secret"), column("previous_secret"))


def _rewrite_batch(
    conn: Connection, t: TableClause, after: str | None, limit: int, transform: _Transform
) -> tuple[list[Any], int, int]:
    query = select(t.c.id, t.c.secret, t.c.previous_secret).order_by(t.c.id).limit(limit)
    if after is not None:
        query = query.where(t.c.id > after)
    rows = list(conn.execute(query).all())
    changed = skipped = 0
    for row in rows:
        secret = transform(row.secret, row.id)
        previous = transform(row.previous_secret, row.id) if row.previous_secret else None
        if secret is None and previous is None:
            continue
        # Conditional on the values read, so a concurrent rotation is never overwritten.
        same_previous = (
            t.c.previous_secret.is_(None)
            if row.previous_secret is None
            else t.c.previous_secret == row.previous_secret
        )
        values: dict[str, str] = {}
        if secret is not None:
            values["secret"] = secret
        if previous is not None:
            values["previous_secret"] = previous
        result = conn.execute(
            update(t)
            .where(t.c.id == row.id, t.c.secret == row.secret, same_previous)
            .values(**values)
        )
        if result.rowcount == 1:
            changed += 1
        else:
            skipped += 1
    return rows, changed, skipped


def _count(conn: Connection, t: TableClause) -> int:
    return int(conn.execute(select(func.count()).select_from(t)).scalar_one())


def _resealer(sealer: SecretSealer) -> _Transform:
    def transform(value: str, endpoint_id: str) -> str | None:
        if not sealer.needs_reseal(value):
            return None
        return sealer.seal(sealer.open(value, endpoint_id=endpoint_id), endpoint_id=endpoint_id)

    return transform


def reseal_secrets(
    engine: Engine,
    tables: WebhookTables | str,
    sealer: SecretSealer,
    *,
    batch_size: int = 100,
    on_progress: ResealProgress | None = None,
) -> ResealReport:
    """Re-seal every stored endpoint secret under the sealer's first key.

    Run it after putting a new key first in the configured list; once it reports no
    skipped rows, the old keys can be removed. Plaintext values (stored before sealing
    was configured) are sealed too. Each batch is its own transaction, so a large table
    is never locked as a whole and an interrupted run resumes where it matters: rows
    already under the first key are left alone.

    Args:
        engine: Synchronous engine of the database holding the endpoints table.
        tables: The webhook tables, or the endpoints table's name.
        sealer: The configured keys (first seals, all open).
        batch_size: Rows per transaction.
        on_progress: Called with ``(done, total)`` after each batch.

    Raises:
        SecretSealingError: A stored value does not open with any configured key.

    .. versionadded:: 0.3.0
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    t = _endpoints(tables)
    transform = _resealer(sealer)
    with engine.connect() as conn:
        total = _count(conn, t)
    done = resealed = skipped = 0
    after: str | None = None
    if on_progress is not None:
        on_progress(0, total)
    while True:
        with engine.begin() as conn:
            rows, changed, missed = _rewrite_batch(conn, t, after, batch_size, transform)
        if not rows:
            break
        after = rows[-1].id
        done += len(rows)
        resealed += changed
        skipped += missed
        if on_progress is not None:
            on_progress(done, max(total, done))
    return ResealReport(rows=done, resealed=resealed, skipped=skipped)


def _run_all(conn: Connection, t: TableClause, transform: _Transform, batch_size: int) -> int:
    after: str | None = None
    changed = 0
    while True:
        rows, n, _ = _rewrite_batch(conn, t, after, batch_size, transform)
        if not rows:
            return changed
        after = rows[-1].id
        changed += n


def seal_existing_secrets(
    connection: Connection,
    sealer: SecretSealer | None,
    *,
    table_name: str = "webhook_endpoints",
    batch_size: int = 500,
) -> int:
    """Seal the plaintext secrets of an endpoints table (for an Alembic ``upgrade``).

    Runs on the migration's connection and inside its transaction
    (``seal_existing_secrets(op.get_bind(), sealer)``). Values already sealed are left
    as they are, so running it twice is harmless. Without keys (``sealer`` is ``None``,
    e.g. ``SecretSealer.from_env()`` in development) nothing changes and a warning is
    logged; ``python -m spaps_webhooks rotate-secrets`` seals the rows later.

    Args:
        connection: The migration's connection.
        sealer: The configured keys; values are sealed under the first.
        table_name: The endpoints table (``<prefix>endpoints``).
        batch_size: Rows read at a time.

    Returns:
        How many rows were changed.

    .. versionadded:: 0.3.0
    """

    if sealer is None:
        _log.warning("no sealing keys configured: %s keeps plaintext secrets", table_name)
        return 0
    keys = sealer

    def transform(value: str, endpoint_id: str) -> str | None:
        return None if is_sealed(value) else keys.seal(value, endpoint_id=endpoint_id)

    return _run_all(connection, _endpoints(table_name), transform, batch_size)


def unseal_secrets(
    connection: Connection,
    sealer: SecretSealer | None,
    *,
    table_name: str = "webhook_endpoints",
    batch_size: int = 500,
) -> int:
    """Turn sealed secrets back into plaintext (for an Alembic ``downgrade``).

    Args:
        connection: The migration's connection.
        sealer: Keys that open every stored value; ``None`` is fine only when no value
            is sealed.
        table_name: The endpoints table.
        batch_size: Rows read at a time.

    Returns:
        How many rows were changed.

    Raises:
        SecretSealingError: A value does not open with the given keys, or values are
            sealed and no keys are given.

    .. versionadded:: 0.3.0
    """
    t = _endpoints(table_name)
    if sealer is None:
        sealed = connection.execute(
            select(func.count())
            .select_from(t)
            .where(
                t.c.secret.startswith(SEALED_PREFIX) | t.c.previous_secret.startswith(SEALED_PREFIX)
            )
        ).scalar_one()
        if sealed:
            raise SecretSealingError(f"{sealed} endpoint secrets are sealed: configure the keys")
        return 0
    keys = sealer

    def transform(value: str, endpoint_id: str) -> str | None:
        return keys.open(value, endpoint_id=endpoint_id) if is_sealed(value) else None

    return _run_all(connection, t, transform, batch_size)
