"""The test harness brings its own PostgreSQL and Redis where none answers (here forced with
SPAPS_TEST_EMBEDDED=1, since this machine runs both): real servers from wheels, shared by a
run's xdist workers, stopped by PID at the end. RabbitMQ has no wheel: its tests are
counted loudly when they cannot run, and fail when services are required."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "test_servers.py"

PROBE = """
import json, os, subprocess, sys
from pathlib import Path
import redis
state = json.loads((Path(sys.argv[1]) / "state.json").read_text())
pg = os.environ["SPAPS_TEST_POSTGRES_URL"]
version = subprocess.run(["psql", pg, "-Atc", "show server_version"], capture_output=True,
                         text=True, check=True).stdout.strip()
info = redis.Redis.from_url(os.environ["SPAPS_TEST_REDIS_URL"]).info("server")
print(json.dumps({"pg": pg, "redis": os.environ["SPAPS_TEST_REDIS_URL"], "pg_version": version,
                  "redis_version": info["redis_version"], "state": state}))
"""

USES_SERVERS = """
import os
import asyncpg
import redis

def test_postgres(postgres_url):
    assert ":5432/" not in postgres_url
    server = os.environ["SPAPS_TEST_POSTGRES_URL"]
    assert postgres_url.rsplit("/", 1)[0] == server.rsplit("/", 1)[0]

async def test_postgres_answers(postgres_url):
    connection = await asyncpg.connect(postgres_url)
    try:
        name = await connection.fetchval("select current_database()")
        assert name == postgres_url.rsplit("/", 1)[1]
    finally:
        await connection.close()

def test_redis(redis_url):
    assert ":6379/" not in redis_url
    assert redis.Redis.from_url(redis_url).ping()
"""

USES_AMQP = """
def test_amqp(amqp_url):
    assert amqp_url
"""


def env(**extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SPAPS_TEST_") and k != "SPAPS_REQUIRE_SERVICES"
    }
    return {**base, **extra}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
def test_run_starts_real_servers_from_wheels_and_stops_them(tmp_path: Path) -> None:
    state = tmp_path / "state"  # servers of its own, not shared with this run's
    result = subprocess.run(
        [sys.executable, str(TOOL), "run", "--", sys.executable, "-c", PROBE, str(state)],
        capture_output=True, text=True, check=False, timeout=300,
        env=env(SPAPS_TEST_EMBEDDED="1", SPAPS_TEST_SERVERS_DIR=str(state)),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["pg"].startswith("postgresql://postgres@127.0.0.1:")
    assert ":5432/" not in seen["pg"]
    assert ":6379/" not in seen["redis"]
    assert seen["pg_version"].startswith("18.")
    assert seen["redis_version"].startswith("6.2.")
    assert "PostgreSQL embedded at" in result.stdout
    # Stopped by PID at the end, data folder removed.
    pids = [int(s["pid"]) for s in seen["state"]["servers"].values()]
    assert len(pids) == 2
    assert not any(alive(pid) for pid in pids)
    assert not Path(seen["state"]["folder"]).exists()


@pytest.mark.slow
def test_a_plain_pytest_run_shares_one_pair_of_servers_across_workers(tmp_path: Path) -> None:
    (tmp_path / "test_uses_servers.py").write_text(USES_SERVERS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-n", "2",
         "-p", "no:cacheprovider", "-o", "asyncio_mode=auto", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
        env=env(
            SPAPS_TEST_EMBEDDED="1",
            SPAPS_REQUIRE_SERVICES="1",
            SPAPS_TEST_SERVERS_DIR=str(tmp_path / "state"),
            PYTHONPATH=str(ROOT),
        ),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_amqp_tests_that_cannot_run_are_counted_loudly(tmp_path: Path) -> None:
    (tmp_path / "test_uses_amqp.py").write_text(USES_AMQP)
    nowhere = {"SPAPS_TEST_AMQP_URL": "amqp://guest:guest@127.0.0.1:9//"}  # discard: refused
    cmd = [sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-p", "no:cacheprovider",
           str(tmp_path)]  # fmt: skip
    free = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
        env=env(PYTHONPATH=str(ROOT), **nowhere),
    )  # fmt: skip
    assert free.returncode == 0, free.stdout
    assert "AMQP: 1 tests did not run: RabbitMQ is unreachable at 127.0.0.1:9" in free.stdout
    required = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
        env=env(PYTHONPATH=str(ROOT), SPAPS_REQUIRE_SERVICES="1", **nowhere),
    )  # fmt: skip
    assert required.returncode == 1
    assert "ERROR test_uses_amqp.py::test_amqp - Failed: RabbitMQ at 127.0.0.1:9" in required.stdout
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_services.py")],
        capture_output=True, text=True, check=False, timeout=120,
        env=env(SPAPS_REQUIRE_SERVICES="1", **nowhere),
    )  # fmt: skip
    assert check.returncode == 1
    assert check.stderr.startswith("error: RabbitMQ is unreachable at 127.0.0.1:9")
