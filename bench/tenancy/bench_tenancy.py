"""spaps-tenancy benchmark on PostgreSQL.

1. Automatic filter overhead: a typical filtered ORM query (list 20 rows of a category,
   newest first; and a get by primary key) through ``install_tenant_filter`` versus the
   same query with a hand-written ``WHERE tenant_id = ...`` on a plain session. Target:
   overhead <= 5 %.
2. Export throughput: ``export_tenant`` of 10k and 100k rows to JSON Lines, each in a fresh
   child process, reporting rows/s, peak RSS and tracemalloc peak: memory must stay flat
   (streamed with ``yield_per``, not loaded).

Run: ``uv run --no-sync python bench/tenancy/bench_tenancy.py`` (PostgreSQL at
``SPAPS_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``).
Creates and drops its own database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy import DateTime, Integer, String, create_engine, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from spaps_tenancy import (
    TenantScoped,
    TenantSession,
    export_tenant,
    install_tenant_filter,
    tenant_context,
)

ADMIN_URL = os.environ.get(
    "SPAPS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FILTER_TENANTS = [f"t{i}" for i in range(10)]
ROWS_PER_FILTER_TENANT = 10_000
EXPORT_SIZES = {"small": 10_000, "big": 100_000}


class Base(DeclarativeBase):
    pass


class Item(TenantScoped, Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), server_default=func.now())
    payload: Mapped[str] = mapped_column(String(200))


class FilteredSession(TenantSession):
    pass


install_tenant_filter(FilteredSession)


def psql(url: str, sql: str) -> None:
    subprocess.run(
        ["psql", url, "-q", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def db_url(name: str) -> str:
    return (
        urlsplit(ADMIN_URL)
        ._replace(path="/" + name)
        .geturl()
        .replace("postgresql://", "postgresql+psycopg://", 1)
    )


def load(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO items (tenant_id, category, title, payload) "
                "SELECT 't' || (g % 10), (g / 10) % 50, 'title ' || g, repeat('x', 120) "
                "FROM generate_series(0, :n - 1) g"
            ),
            {"n": ROWS_PER_FILTER_TENANT * len(FILTER_TENANTS)},
        )
        for tenant, size in EXPORT_SIZES.items():
            connection.execute(
                text(
                    "INSERT INTO items (tenant_id, category, title, payload) "
                    "SELECT :t, g % 50, 'title ' || g, repeat('y', 120) FROM generate_series(1, :n) g"
                ),
                {"t": tenant, "n": size},
            )
        connection.execute(
            text("CREATE INDEX items_tenant_category ON items (tenant_id, category, id)")
        )
        connection.execute(text("ANALYZE items"))
    engine.dispose()


def time_loop(run: Callable[[int], None], n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        run(i)
    return time.perf_counter() - started


def bench_filter(url: str, rounds: int, per_round: int) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    filtered = sessionmaker(engine, class_=FilteredSession)
    plain = sessionmaker(engine, class_=Session)

    def list_auto(i: int) -> None:
        with tenant_context(FILTER_TENANTS[i % 10]), filtered() as session:
            rows = session.scalars(
                select(Item).where(Item.category == i % 50).order_by(Item.id.desc()).limit(20)
            ).all()
            assert len(rows) == 20

    def list_manual(i: int) -> None:
        tenant = FILTER_TENANTS[i % 10]
        with plain() as session:
            rows = session.scalars(
                select(Item)
                .where(Item.tenant_id == tenant, Item.category == i % 50)
                .order_by(Item.id.desc())
                .limit(20)
            ).all()
            assert len(rows) == 20

    def get_auto(i: int) -> None:
        with tenant_context(FILTER_TENANTS[(i * 7 + 1) % 10]), filtered() as session:
            session.get(Item, i * 7 + 2)

    def get_manual(i: int) -> None:
        tenant = FILTER_TENANTS[(i * 7 + 1) % 10]
        with plain() as session:
            session.scalars(
                select(Item).where(Item.id == i * 7 + 2, Item.tenant_id == tenant)
            ).first()

    for name, auto, manual in (
        ("list 20 of a category", list_auto, list_manual),
        ("get by primary key", get_auto, get_manual),
    ):
        time_loop(auto, 200)
        time_loop(manual, 200)  # warm caches (SQL compilation cache, plans)
        autos, manuals = [], []
        for r in range(rounds):
            # Alternate the order each round so drift on a shared machine hits both sides.
            pair = [(auto, autos), (manual, manuals)]
            for run, sink in pair if r % 2 == 0 else pair[::-1]:
                sink.append(time_loop(run, per_round) / per_round)
        a, m = statistics.median(autos), statistics.median(manuals)
        print(
            f"  {name:24s} automatic {a * 1e6:8.1f} us/query   hand-written {m * 1e6:8.1f} us/query"
            f"   overhead {100 * (a / m - 1):+5.1f} %  (target <= +5 %)"
        )
    engine.dispose()


def export_child(url: str, tenant: str) -> None:
    engine = create_engine(url)
    tracemalloc.start()
    started = time.perf_counter()
    with open(os.devnull, "w") as out, engine.connect() as connection:
        counts = export_tenant(
            connection, Base.metadata, tenant, out, batch_size=1000, audit=lambda record: None
        )
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": sum(counts.values()),
                "seconds": elapsed,
                "tracemalloc_peak": peak,
                "rss_kib": rss_kib,
            }
        )
    )
    engine.dispose()


def bench_export(url: str) -> None:
    results = {}
    for tenant in EXPORT_SIZES:
        child = subprocess.run(
            [sys.executable, __file__, "--export-child", tenant, "--url", url],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        results[tenant] = json.loads(child.stdout.strip().splitlines()[-1])
    for tenant, r in results.items():
        print(
            f"  {r['rows']:>7,d} rows  {r['rows'] / r['seconds']:>9,.0f} rows/s  "
            f"peak RSS {r['rss_kib'] / 1024:6.1f} MiB  tracemalloc peak {r['tracemalloc_peak'] / 2**20:6.2f} MiB"
        )
    small, big = results["small"], results["big"]
    print(
        f"  100k vs 10k: rows x{big['rows'] / small['rows']:.0f}, peak RSS x{big['rss_kib'] / small['rss_kib']:.2f}, "
        f"tracemalloc peak x{big['tracemalloc_peak'] / small['tracemalloc_peak']:.2f} (flat ~ x1)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export-child")
    parser.add_argument("--url")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=300)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.url, args.export_child)
        return 0
    name = "spaps_bench_tenancy_" + uuid.uuid4().hex[:8]
    psql(ADMIN_URL, f'CREATE DATABASE "{name}"')
    try:
        url = db_url(name)
        started = time.perf_counter()
        load(url)
        print(
            f"PostgreSQL, {len(FILTER_TENANTS)} tenants x {ROWS_PER_FILTER_TENANT:,} rows + export tenants "
            f"{', '.join(f'{n:,}' for n in EXPORT_SIZES.values())} rows (loaded in {time.perf_counter() - started:.1f} s)"
        )
        print(
            f"1. automatic tenant filter vs hand-written WHERE (median of {args.rounds} rounds x {args.per_round}):"
        )
        bench_filter(url, args.rounds, args.per_round)
        print("2. export_tenant to JSON Lines (fresh process each):")
        bench_export(url)
    finally:
        psql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
