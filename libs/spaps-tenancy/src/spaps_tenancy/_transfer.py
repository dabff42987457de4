"""Tenant export (JSON Lines), erasure and import over SQLAlchemy Core.

The export file starts with a header line, then one line per row in dependency order
(parents before children), so an import can insert it front to back::

    {"format": "spaps-tenancy-export", "version": 1, "tenant_id": "acme", "tables": [...]}
    {"table": "patients", "row": {"id": 1, "tenant_id": "acme", ...}}

Rows are streamed (``yield_per``: a server-side cursor on PostgreSQL), so memory stays
flat whatever the tenant's size. On PostgreSQL each operation also sets the row-level
security tenant for its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from sqlalchemy import Integer, MetaData, Table, bindparam, delete, func, select, text
from sqlalchemy.engine import Connection

from ._audit import AuditRecord, AuditSink, log_audit_record
from ._codec import decode_value, encode_value
from ._context import _check_tenant_id
from ._errors import TransferError
from ._rls import DEFAULT_SETTING, set_tenant_setting

FORMAT = "spaps-tenancy-export"
VERSION = 1

Progress = Callable[[str, int, int], None]
"""Called as rows move: ``(table, rows done in this table, rows in this table)``."""


def tenant_tables(metadata: MetaData, *, column: str = "tenant_id") -> list[Table]:
    """Return the tables of ``metadata`` that have a tenant column, parents first.

    Args:
        metadata: The application's ``MetaData`` (``Base.metadata``).
        column: Name of the tenant column.

    .. versionadded:: 0.1.0
    """
    return [t for t in metadata.sorted_tables if column in t.c]


def _prepare(connection: Connection, tenant_id: str, setting: str | None) -> None:
    _check_tenant_id(tenant_id)
    if setting is not None and connection.dialect.name == "postgresql":
        set_tenant_setting(connection, tenant_id, setting=setting)


def export_tenant(
    connection: Connection,
    metadata: MetaData,
    tenant_id: str,
    out: IO[str],
    *,
    column: str = "tenant_id",
    batch_size: int = 1000,
    progress: Progress | None = None,
    rls_setting: str | None = DEFAULT_SETTING,
    audit: AuditSink | None = None,
    actor: str | None = None,
) -> dict[str, int]:
    """Write every row of ``tenant_id`` to ``out`` as JSON Lines; return rows per table.

    Args:
        connection: A connection (its transaction is left to the caller).
        metadata: The application's ``MetaData``.
        tenant_id: The tenant to export.
        out: A text stream to write to.
        column: Name of the tenant column.
        batch_size: Rows fetched per round trip.
        progress: Reports progress (e.g. a progress bar).
        rls_setting: PostgreSQL setting for row-level security (``None``: do not set).
        audit: Receives an ``"export"`` record; defaults to logging.
        actor: Who exports, for the audit record.

    .. versionadded:: 0.1.0
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    _prepare(connection, tenant_id, rls_setting)
    tables = tenant_tables(metadata, column=column)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "tenant_id": tenant_id,
        "tables": [t.name for t in tables],
    }
    out.write(json.dumps(header) + "\n")
    counts: dict[str, int] = {}
    streaming = connection.execution_options(yield_per=batch_size)
    for table in tables:
        where = table.c[column] == tenant_id
        total = connection.execute(
            select(func.count()).select_from(table).where(where)
        ).scalar_one()
        done = 0
        if progress is not None:
            progress(table.name, 0, total)
        query = select(table).where(where).order_by(*table.primary_key.columns)
        for partition in streaming.execute(query).mappings().partitions():
            for row in partition:
                record = {
                    "table": table.name,
                    "row": {k: encode_value(v) for k, v in row.items()},
                }
                out.write(json.dumps(record) + "\n")
            done += len(partition)
            if progress is not None:
                progress(table.name, done, total)
        counts[table.name] = done
    (audit or log_audit_record)(
        AuditRecord(
            action="export",
            reason="tenant export",
            actor=actor,
            tenant_id=tenant_id,
            details=counts,
        )
    )
    return counts


def erase_tenant(
    connection: Connection,
    metadata: MetaData,
    tenant_id: str,
    *,
    reason: str,
    column: str = "tenant_id",
    rls_setting: str | None = DEFAULT_SETTING,
    audit: AuditSink | None = None,
    actor: str | None = None,
) -> dict[str, int]:
    """Delete every row of ``tenant_id`` (children first); return rows deleted per table.

    Emits an ``"erase"`` :class:`AuditRecord` with the counts. The caller commits.

    Args:
        connection: A connection (its transaction is left to the caller).
        metadata: The application's ``MetaData``.
        tenant_id: The tenant to erase.
        reason: Why (e.g. the GDPR request reference); required.
        column: Name of the tenant column.
        rls_setting: PostgreSQL setting for row-level security (``None``: do not set).
        audit: Receives the record; defaults to logging.
        actor: Who erases, for the audit record.

    .. versionadded:: 0.1.0
    """
    if not reason or not reason.strip():
        raise ValueError("erase_tenant() needs a reason for the audit trail")
    _prepare(connection, tenant_id, rls_setting)
    counts: dict[str, int] = {}
    for table in reversed(tenant_tables(metadata, column=column)):
        result = connection.execute(delete(table).where(table.c[column] == tenant_id))
        counts[table.name] = result.rowcount
    (audit or log_audit_record)(
        AuditRecord(action="erase", reason=reason, actor=actor, tenant_id=tenant_id, details=counts)
    )
    return counts


def _read_lines(source: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TransferError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise TransferError(f"line {number}: expected a JSON object")
        yield number, record


def _batches(
    records: Iterator[tuple[int, dict[str, Any]]], size: int
) -> Iterable[list[tuple[int, dict[str, Any]]]]:
    batch: list[tuple[int, dict[str, Any]]] = []
    for item in records:
        if batch and (len(batch) >= size or item[1].get("table") != batch[0][1].get("table")):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def import_tenant(
    connection: Connection,
    metadata: MetaData,
    tenant_id: str,
    source: IO[str],
    *,
    column: str = "tenant_id",
    batch_size: int = 1000,
    progress: Progress | None = None,
    rls_setting: str | None = DEFAULT_SETTING,
    audit: AuditSink | None = None,
    actor: str | None = None,
) -> dict[str, int]:
    """Insert an export of ``tenant_id`` read from ``source``; return rows per table.

    Every row must belong to ``tenant_id`` and to a known tenant table; otherwise nothing
    should be committed (the caller's transaction is rolled back on the raised error).
    On PostgreSQL, integer key sequences are moved past the imported ids.

    Raises:
        TransferError: The file is not an export of this tenant or does not fit the schema.

    .. versionadded:: 0.1.0
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    _prepare(connection, tenant_id, rls_setting)
    tables = {t.name: t for t in tenant_tables(metadata, column=column)}
    records = _read_lines(source)
    first = next(records, None)
    if first is None or first[1].get("format") != FORMAT:
        raise TransferError("not a spaps-tenancy export (missing header line)")
    header = first[1]
    if header.get("version") != VERSION:
        raise TransferError(f"unsupported export version {header.get('version')!r}")
    if header.get("tenant_id") != tenant_id:
        raise TransferError(
            f"the export belongs to tenant {header.get('tenant_id')!r}, not {tenant_id!r}"
        )
    counts: dict[str, int] = dict.fromkeys(header.get("tables", []), 0)
    for batch in _batches(records, batch_size):
        name = batch[0][1].get("table")
        table = tables.get(name) if isinstance(name, str) else None
        if table is None:
            raise TransferError(f"line {batch[0][0]}: unknown table {name!r}")
        rows = [_decode_row(table, number, record, column, tenant_id) for number, record in batch]
        connection.execute(table.insert(), rows)
        counts[table.name] = counts.get(table.name, 0) + len(rows)
        if progress is not None:
            progress(table.name, counts[table.name], counts[table.name])
    if connection.dialect.name == "postgresql":
        for name in counts:
            _advance_sequence(connection, tables[name])
    (audit or log_audit_record)(
        AuditRecord(
            action="import",
            reason="tenant import",
            actor=actor,
            tenant_id=tenant_id,
            details=counts,
        )
    )
    return counts


def _decode_row(
    table: Table, number: int, record: dict[str, Any], column: str, tenant_id: str
) -> dict[str, Any]:
    row = record.get("row")
    if not isinstance(row, dict):
        raise TransferError(f"line {number}: missing row object")
    unknown = set(row) - set(table.c.keys())
    if unknown:
        raise TransferError(f"line {number}: {table.name} has no column {sorted(unknown)[0]!r}")
    if row.get(column) != tenant_id:
        raise TransferError(f"line {number}: row belongs to another tenant")
    try:
        return {key: decode_value(table.c[key], value) for key, value in row.items()}
    except (TypeError, ValueError, KeyError) as exc:
        raise TransferError(f"line {number}: bad value ({exc})") from None


def _advance_sequence(connection: Connection, table: Table) -> None:
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return
    key = keys[0]
    highest = connection.execute(select(func.max(key)).select_from(table)).scalar()
    sequence = connection.execute(
        text("SELECT pg_get_serial_sequence(:table, :column)"),
        {"table": table.fullname, "column": key.name},
    ).scalar()
    if highest is None or sequence is None:
        return
    # Never move a shared sequence backwards: other tenants' rows (invisible under RLS)
    # may hold higher ids. nextval() costs one id, which is harmless.
    connection.execute(
        text(
            "SELECT setval(CAST(:seq AS regclass),"
            " GREATEST(:high, nextval(CAST(:seq AS regclass))))"
        ).bindparams(bindparam("high", type_=Integer())),
        {"seq": sequence, "high": highest},
    )
