"""The shipped seed catalog, its generator and the importer."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from ingredient.catalog.minerals import MINERALS
from ingredient.catalog.models import Ingredient
from ingredient.catalog.seed import NUMBER_FIELDS, TEXT_FIELDS, import_catalog, read_catalog
from ingredient.db import create_sessionmaker
from ingredient.errors import CatalogImportError
from ingredient.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from sqlalchemy import func, select

HEADER = ",".join((*TEXT_FIELDS, *NUMBER_FIELDS))


def _build_catalog() -> ModuleType:
    path = Path(__file__).parents[1] / "tools" / "build_catalog.py"
    spec = importlib.util.spec_from_file_location("build_catalog", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_catalog", module)
    spec.loader.exec_module(module)
    return module


def _csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8")
    return path


def _row(code: str = "Z001", name: str = "Test food", calcium: str = "12.5") -> str:
    numbers = ["" for _ in NUMBER_FIELDS]
    numbers[NUMBER_FIELDS.index("calcium_mg")] = calcium
    return ",".join((code, name, "", "", "Fruits", *numbers))


def test_seed_has_the_542_ifct_foods_with_minerals(seed_rows: list[dict[str, object]]) -> None:
    assert len(seed_rows) == 542
    assert len({row["code"] for row in seed_rows}) == 542
    for mineral in MINERALS:
        assert all(isinstance(row[mineral.column], float) for row in seed_rows), mineral.symbol


def test_generator_converts_minerals_to_mg_and_is_reproducible(tmp_path: Path) -> None:
    build = _build_catalog()
    columns = [*build.TEXT_COLUMNS, *build.NUTRIENT_COLUMNS, *build.MINERAL_COLUMNS]
    header = ",".join(f'"Label; {c}"' for c in columns) + ',"Calcium (Ca); ca_e"'
    values = dict.fromkeys(columns, "1")
    values.update(
        code="B2", name="Beta", scie="", lang="", grup="Fruits", ca="0.181", se="0.00001646"
    )
    other = dict(values, code="A1", name="Alpha")
    source = tmp_path / "compositions.csv"
    source.write_text(
        "\n".join([header, *(",".join(row[c] for c in columns) + ",0" for row in (values, other))]),
        encoding="utf-8",
    )
    first = build.derive(source)
    assert build.derive(source) == first  # byte-for-byte reproducible (gzip mtime 0)
    out = tmp_path / "seed.csv.gz"
    out.write_bytes(first)
    rows = read_catalog(out)
    assert [row["code"] for row in rows] == ["A1", "B2"]  # sorted by code
    assert rows[1]["calcium_mg"] == 181.0
    assert rows[1]["selenium_mg"] == pytest.approx(0.01646)
    assert rows[1]["energy_kj"] == 1.0  # energy stays in kJ


def test_generator_reports_missing_columns(tmp_path: Path) -> None:
    source = tmp_path / "compositions.csv"
    source.write_text('"Food Code; code"\nA1\n', encoding="utf-8")
    assert _build_catalog().main([str(source), "--output", str(tmp_path / "x.gz")]) == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((_row(calcium="lots"),), "line 2: calcium_mg is not a number: 'lots'"),
        ((_row(calcium="-1"),), "line 2: calcium_mg is negative"),
        ((_row(), _row()), "line 3: duplicate code 'Z001'"),
        ((_row(name=""),), "line 2: code and name are required"),
    ],
)
def test_invalid_rows_are_reported_with_their_line(
    tmp_path: Path, lines: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CatalogImportError, match=message):
        read_catalog(_csv(tmp_path, *lines))


def test_missing_columns_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogImportError, match=r"lacks the columns: .*calcium_mg"):
        read_catalog(_csv(tmp_path, "Z,Food", header="code,name,scientific_name"))
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(CatalogImportError, match="cannot read"):
        read_catalog(broken)
    with pytest.raises(CatalogImportError, match="cannot read"):
        read_catalog(tmp_path / "absent.csv")


def test_gzip_and_plain_files_read_the_same(tmp_path: Path) -> None:
    plain = _csv(tmp_path, _row())
    packed = tmp_path / "catalog.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_catalog(plain) == read_catalog(packed)


async def test_import_is_idempotent_and_updates_by_code(database_url: str, tmp_path: Path) -> None:
    await MIGRATIONS.upgrade(database_url)
    async with open_engine(database_url) as engine:
        sessions = create_sessionmaker(engine)
        rows = read_catalog(_csv(tmp_path, _row("Z001"), _row("Z002", "Other food")))
        seen: list[int] = []
        assert await import_catalog(sessions, rows, progress=seen.append) == (2, 0)
        assert seen == [2]
        assert await import_catalog(sessions, rows) == (0, 0)
        changed = read_catalog(_csv(tmp_path, _row("Z001", calcium="99")))
        assert await import_catalog(sessions, changed) == (0, 1)
        async with sessions() as session:
            food = await session.scalar(select(Ingredient).where(Ingredient.code == "Z001"))
            assert food is not None
            assert (food.calcium_mg, food.version) == (99.0, 2)
            assert await session.scalar(select(func.count()).select_from(Ingredient)) == 2


async def test_import_into_an_unmigrated_database_fails_clearly(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with open_engine(sqlite_url) as engine:
        rows = read_catalog(_csv(tmp_path, _row()))
        with pytest.raises(CatalogImportError, match=r"database error: .*no such table"):
            await import_catalog(create_sessionmaker(engine), rows)
