"""Export -> erase -> import, through the functions and the ``python -m spaps_tenancy`` CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from spaps_tenancy import (
    TransferError,
    enable_rls,
    erase_tenant,
    export_tenant,
    import_tenant,
    tenant_tables,
)
from spaps_tenancy._cli import main
from spaps_tenancy.testing import RecordingAuditSink
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import Engine

MODELS = """
import datetime as dt, enum, uuid
from decimal import Decimal
from sqlalchemy import JSON, ForeignKey, LargeBinary, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from spaps_tenancy import TenantScoped

class Kind(enum.Enum):
    blood = 1
    hair = 2

class Base(DeclarativeBase):
    pass

class Lab(Base):
    __tablename__ = "labs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))

class Clinic(TenantScoped, Base):
    __tablename__ = "clinics"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))

class Sample(TenantScoped, Base):
    __tablename__ = "samples"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    taken_at: Mapped[dt.datetime]
    taken_on: Mapped[dt.date]
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    ratio: Mapped[float]
    kind: Mapped[Kind]
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    extra: Mapped[dict[str, object]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(100))
"""


@pytest.fixture
def models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique_name: str
) -> Iterator[ModuleType]:
    """An importable models module (``--metadata <name>:Base``) with many column types."""
    (tmp_path / f"{unique_name}.py").write_text(MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(unique_name)
    yield module
    sys.modules.pop(unique_name, None)


def fill(engine: Engine, models: ModuleType, tenants: tuple[str, ...] = ("acme", "zeta")) -> None:
    models.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(models.Lab.__table__.insert(), [{"id": 1, "name": "central"}])
        for offset, tenant in enumerate(tenants):
            base = 10 * (offset + 1)
            clinics = [
                {"id": base, "name": f"{tenant} main", "parent_id": None, "tenant_id": tenant},
                {
                    "id": base + 1,
                    "name": f"{tenant} branch",
                    "parent_id": base,
                    "tenant_id": tenant,
                },
            ]
            connection.execute(models.Clinic.__table__.insert(), clinics)
            samples = [
                {
                    "id": uuid.uuid4(),
                    "clinic_id": base + i % 2,
                    "taken_at": dt.datetime(2026, 1, 2, 3, 4, 5, 600000 + i),
                    "taken_on": dt.date(2026, 1, 1 + i),
                    "amount": Decimal("12.345") + i,
                    "ratio": 0.1 * i,
                    "kind": models.Kind.hair if i % 2 else models.Kind.blood,
                    "raw": bytes([i, 0, 255]),
                    "extra": {"i": i, "tags": ["a", "é"]},
                    "note": None if i % 3 else f"note {i}",
                    "tenant_id": tenant,
                }
                for i in range(5)
            ]
            connection.execute(models.Sample.__table__.insert(), samples)


def dump(engine: Engine, metadata: MetaData) -> dict[str, list[Any]]:
    with engine.connect() as connection:
        return {
            t.name: sorted(connection.execute(select(t)).all(), key=lambda row: str(row[0]))
            for t in metadata.sorted_tables
        }


def test_round_trip_with_functions_on_sqlite(tmp_path: Path, models: ModuleType) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    fill(engine, models)
    metadata = models.Base.metadata
    assert [t.name for t in tenant_tables(metadata)] == ["clinics", "samples"]
    before = dump(engine, metadata)
    sink = RecordingAuditSink()
    out = io.StringIO()
    progress: list[tuple[str, int, int]] = []
    with engine.begin() as connection:
        counts = export_tenant(
            connection,
            metadata,
            "acme",
            out,
            batch_size=2,
            progress=lambda *a: progress.append(a),
            audit=sink,
        )
    assert counts == {"clinics": 2, "samples": 5}
    assert progress[-1] == ("samples", 5, 5)
    assert ("samples", 2, 5) in progress  # streamed in batches of two
    lines = out.getvalue().splitlines()
    assert json.loads(lines[0])["tenant_id"] == "acme"
    assert all(json.loads(line)["row"]["tenant_id"] == "acme" for line in lines[1:])
    with engine.begin() as connection:
        erased = erase_tenant(
            connection, metadata, "acme", reason="GDPR request 17", actor="dpo", audit=sink
        )
    assert erased == {"samples": 5, "clinics": 2}
    after_erase = dump(engine, metadata)
    assert all(row.tenant_id == "zeta" for row in after_erase["samples"] + after_erase["clinics"])
    assert after_erase["labs"] == before["labs"]
    with engine.begin() as connection:
        imported = import_tenant(
            connection, metadata, "acme", io.StringIO(out.getvalue()), audit=sink
        )
    assert imported == {"clinics": 2, "samples": 5}
    assert dump(engine, metadata) == before
    assert sink.actions() == ["export", "erase", "import"]
    assert sink.records[1].reason == "GDPR request 17"
    assert sink.records[1].details == {"samples": 5, "clinics": 2}
    engine.dispose()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "missing header"),
        ('{"format": "spaps-tenancy-export", "version": 9, "tenant_id": "acme"}\n', "version"),
        (
            '{"format": "spaps-tenancy-export", "version": 1, "tenant_id": "zeta"}\n',
            "belongs to tenant",
        ),
        (
            '{"format": "spaps-tenancy-export", "version": 1, "tenant_id": "acme"}\n'
            '{"table": "labs", "row": {"id": 5, "name": "x"}}\n',
            "unknown table",
        ),
        (
            '{"format": "spaps-tenancy-export", "version": 1, "tenant_id": "acme"}\n'
            '{"table": "clinics", "row": {"id": 5, "name": "x", "tenant_id": "zeta"}}\n',
            "another tenant",
        ),
        (
            '{"format": "spaps-tenancy-export", "version": 1, "tenant_id": "acme"}\n'
            '{"table": "clinics", "row": {"id": 5, "nope": 1, "tenant_id": "acme"}}\n',
            "no column",
        ),
        (
            '{"format": "spaps-tenancy-export", "version": 1, "tenant_id": "acme"}\n{oops\n',
            "not JSON",
        ),
    ],
)
def test_import_rejects_bad_files(models: ModuleType, content: str, message: str) -> None:
    engine = create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with pytest.raises(TransferError, match=message), engine.begin() as connection:
        import_tenant(
            connection,
            models.Base.metadata,
            "acme",
            io.StringIO(content),
            audit=RecordingAuditSink(),
        )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM clinics")).scalar() == 0
    engine.dispose()


def test_cli_round_trip_on_sqlite(
    tmp_path: Path, models: ModuleType, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    engine = create_engine(url)
    fill(engine, models)
    before = dump(engine, models.Base.metadata)
    common = ["--database-url", url, "--metadata", f"{unique_name}:Base", "--tenant", "zeta"]
    export = tmp_path / "zeta.jsonl"
    assert main(["export", *common, "--output", str(export), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "samples" in err  # the progress bar names the table
    assert "exported 7 rows of tenant zeta" in err
    assert '"action": "export"' in err
    assert main(["erase", *common, "--reason", "closing account"]) == 1
    assert "--yes" in capsys.readouterr().err
    assert main(["erase", *common, "--reason", "closing account", "--yes"]) == 0
    err = capsys.readouterr().err
    assert "erased 7 rows" in err
    assert '"action": "erase"' in err
    assert '"reason": "closing account"' in err
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM samples WHERE tenant_id='zeta'")).scalar()
            == 0
        )
    assert main(["import", *common, "--input", str(export), "--no-progress"]) == 0
    assert "imported 7 rows" in capsys.readouterr().err
    assert dump(engine, models.Base.metadata) == before
    engine.dispose()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metadata", "nodots"], "--metadata must look like"),
        (["--metadata", "no_such_module_xyz:Base"], "cannot import"),
        (["--metadata", "json:nothing"], "has no attribute"),
        (["--metadata", "json:dumps"], "neither a MetaData"),
        (["--database-url", "not a url"], "invalid --database-url"),
        (["--database-url", "sqlite+aiosqlite://"], "synchronous driver"),
        (["--database-url", "postgresql+nosuchdriver://x/y"], "--database-url"),
        (["--tenant", " bad "], "tenant_id"),
        (["--output", "/nonexistent/dir/out.jsonl"], "cannot open"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_1(
    models: ModuleType,
    unique_name: str,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    options = {
        "--database-url": "sqlite://",
        "--metadata": f"{unique_name}:Base",
        "--tenant": "acme",
    }
    extra: list[str] = []
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        if flag in options:
            options[flag] = value
        else:
            extra += [flag, value]
    args = ["export", *[item for pair in options.items() for item in pair], *extra]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("spaps-tenancy: error:")
    assert message in err
    assert len(err.splitlines()) == 1


def test_cli_database_error_is_one_line(
    models: ModuleType, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tables do not exist in an empty database.
    code = main(
        [
            "export",
            "--database-url",
            "sqlite://",
            "--metadata",
            f"{unique_name}:Base",
            "--tenant",
            "a",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("spaps-tenancy: error: database: no such table")
    assert len(err.splitlines()) == 1


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--tenant", "a"]) == 2
    assert "required" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli(tmp_path: Path, models: ModuleType, unique_name: str) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    engine = create_engine(url)
    fill(engine, models, tenants=("acme",))
    engine.dispose()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "spaps_tenancy",
            "export",
            "--database-url",
            url,
            "--metadata",
            f"{unique_name}:Base",
            "--tenant",
            "acme",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 + 2 + 5
    failed = subprocess.run(
        [
            sys.executable,
            "-m",
            "spaps_tenancy",
            "erase",
            "--database-url",
            url,
            "--metadata",
            f"{unique_name}:Base",
            "--tenant",
            "acme",
            "--reason",
            "r",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert failed.returncode == 1
    assert (
        failed.stderr.strip()
        == "spaps-tenancy: error: erase deletes every row of the tenant: add --yes to confirm"
    )


@pytest.mark.postgres
def test_cli_round_trip_on_postgres_with_rls(  # noqa: PLR0917  # pytest passes fixtures positionally
    tmp_path: Path,
    models: ModuleType,
    unique_name: str,
    postgres_url: str,
    app_role: str,
    grant_app_role: Callable[[], None],
    pg_url: Callable[[str, str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As the NON-owner app role, RLS on: the CLI sets the tenant itself and round-trips."""
    owner = create_engine(pg_url(postgres_url, "psycopg"))
    fill(owner, models)
    with owner.begin() as connection:
        op = Operations(MigrationContext.configure(connection))
        for table in ("clinics", "samples"):
            enable_rls(op, table)
    grant_app_role()
    before = dump(owner, models.Base.metadata)
    common = [
        "--database-url",
        pg_url(app_role, "psycopg"),
        "--metadata",
        f"{unique_name}:Base",
        "--tenant",
        "acme",
    ]
    export = tmp_path / "acme.jsonl"
    assert main(["export", *common, "-o", str(export), "--batch-size", "3"]) == 0
    assert len(export.read_text().splitlines()) == 1 + 7
    assert main(["erase", *common, "--reason", "gdpr", "--yes"]) == 0
    with owner.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM samples")).scalar() == 5
        )  # zeta untouched
    assert main(["import", *common, "-i", str(export)]) == 0
    assert dump(owner, models.Base.metadata) == before
    # The serial sequence moved past the imported ids (10, 11; the fixture inserted them
    # with explicit ids, so the sequence stood at 1): a new clinic gets a fresh id.
    app = create_engine(pg_url(app_role, "psycopg"))
    with app.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', 'acme', true)"))
        new_id = connection.execute(
            text("INSERT INTO clinics (name, tenant_id) VALUES ('new', 'acme') RETURNING id")
        ).scalar()
    assert new_id is not None
    assert new_id > 11
    # Importing the same file again collides on primary keys: one line, exit code 1.
    assert main(["import", *common, "-i", str(export)]) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .startswith("spaps-tenancy: error: database:")
    )
    app.dispose()
    owner.dispose()
