"""Idempotency-Key overhead on a POST route versus the same route without it.

One uvicorn worker pinned to core 0 (``taskset -c 0``), wrk pinned to core 1, 32
connections, a few interleaved rounds of a few seconds per case, Redis store:

* ``bare``        -- the FastAPI route, no middleware, no key;
* ``new keys``    -- every request carries a fresh key (claim + run + store);
* ``replays``     -- every request repeats one key (the stored response is replayed).

Prints the median requests/s of interleaved runs and the ratios to ``bare``. Needs Redis
and ``wrk``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

HERE = Path(__file__).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DURATION = os.environ.get("BENCH_DURATION", "4s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BODY = '{"item": "tea", "quantity": 2}'

LUA_NEW_KEYS = f"""
counter = 0
prefix = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  return wrk.format("POST", "/orders",
    {{["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. "-" .. counter}},
    '{BODY}')
end
"""

LUA_POST = f"""
wrk.method = "POST"
wrk.body = '{BODY}'
wrk.headers["Content-Type"] = "application/json"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"uvicorn did not listen on {port}")


def _wrk(port: int, script: Path, headers: list[str]) -> tuple[float, str]:
    """Requests/s and average latency of one wrk run."""
    cmd = ["taskset", "-c", "1", "wrk", "-t1", "-c32", "-d", DURATION, "-s", str(script)]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{port}/orders"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    return rps, latency


def _server(mode: str, prefix: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {**os.environ, "BENCH_MODE": mode, "BENCH_REDIS_URL": REDIS_URL, "BENCH_PREFIX": prefix}
    env["PYTHONPATH"] = str(HERE)
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "_idem_app:make_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=HERE,
        start_new_session=True,
    )
    _wait_port(port)
    return server, port


def _stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def main() -> None:
    prefix = f"bench_{uuid.uuid4().hex[:8]}:"
    tmp = Path(tempfile.mkdtemp())
    new_keys, post = tmp / "new_keys.lua", tmp / "post.lua"
    new_keys.write_text(LUA_NEW_KEYS)
    post.write_text(LUA_POST)
    client = redis.Redis.from_url(REDIS_URL)
    servers: list[subprocess.Popen[bytes]] = []
    results: dict[str, list[tuple[float, str]]] = {"bare": [], "new keys": [], "replays": []}
    try:
        bare_server, bare_port = _server("bare", prefix)
        servers.append(bare_server)
        idem_server, idem_port = _server("idem", prefix)
        servers.append(idem_server)
        cases = {
            "bare": (bare_port, post, []),
            "new keys": (idem_port, new_keys, []),
            "replays": (idem_port, post, ["Idempotency-Key: one-key"]),
        }
        for port, script, headers in cases.values():  # warm-up runs, discarded
            _wrk(port, script, headers)
        # Interleave the cases over rounds: the machine is shared, the median is fair.
        for _ in range(ROUNDS):
            for name, (port, script, headers) in cases.items():
                results[name].append(_wrk(port, script, headers))
    finally:
        for server in servers:
            _stop(server)
        keys = list(client.scan_iter(match=prefix + "*", count=10000))
        for start in range(0, len(keys), 5000):
            client.delete(*keys[start : start + 5000])
        client.close()
    median = {name: statistics.median(r for r, _ in runs) for name, runs in results.items()}
    print(
        f"POST /orders, 1 uvicorn worker (core 0), wrk -c32 (core 1), "
        f"median of {ROUNDS} interleaved {DURATION} runs, Redis store"
    )
    print(f"  bare route:               {median['bare']:8.0f} req/s")
    for name in ("new keys", "replays"):
        print(
            f"  Idempotency-Key {name + ':':9} {median[name]:8.0f} req/s"
            f"  ratio {median[name] / median['bare']:.2f}x"
        )


if __name__ == "__main__":
    main()
