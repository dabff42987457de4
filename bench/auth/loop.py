"""Event-loop responsiveness while logins hash passwords.

Starts one real uvicorn worker (pinned to CPU 0) serving ``loop_app``. From this process
(pinned to CPU 1) an async httpx client measures the latency of a trivial route, idle and
while ``wrk`` (also on CPU 1) keeps 16 connections logging in back to back (argon2id at
the OWASP parameters). Idle and loaded phases alternate so drifting load from other
processes on the machine affects both. Target: p99 under load within 2x of idle p99.

Run: ``python bench/auth/loop.py``
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PROBES = 300  # per phase
PHASES = 3  # idle/loaded pairs
LOGIN_CONCURRENCY = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "loop_app:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if os.path.exists("/usr/bin/taskset"):
        command = ["taskset", "-c", "0", *command]
    return subprocess.Popen(command, cwd=HERE)


async def wait_ready(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (await client.get("/ping")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not start within 30 s")


async def probe(client: httpx.AsyncClient, n: int) -> list[float]:
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get("/ping")
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        await asyncio.sleep(0.005)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_logins(port: int, seconds: int) -> subprocess.Popen[str]:
    command = [
        "wrk",
        "-t1",
        f"-c{LOGIN_CONCURRENCY}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(HERE / "login.lua"),
        f"http://127.0.0.1:{port}/login",
    ]
    if os.path.exists("/usr/bin/taskset"):
        command = ["taskset", "-c", "1", *command]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def logins_per_second(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return float("nan")


async def main() -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    port = free_port()
    server = start_server(port)
    idle: list[float] = []
    loaded: list[float] = []
    rates: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_ready(client)
            await probe(client, 50)  # warm up
            for _ in range(PHASES):
                idle += await probe(client, PROBES)
                wrk = start_logins(port, seconds=60)
                try:
                    await asyncio.sleep(1.0)  # let the login burst ramp up
                    loaded += await probe(client, PROBES)
                finally:
                    wrk.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
                    output, _ = wrk.communicate(timeout=30)
                rates.append(logins_per_second(output))
                await asyncio.sleep(1.0)  # let queued logins drain before the next idle phase
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    idle_p50, idle_p99 = percentile(idle, 0.5) * 1e3, percentile(idle, 0.99) * 1e3
    load_p50, load_p99 = percentile(loaded, 0.5) * 1e3, percentile(loaded, 0.99) * 1e3
    print(f"idle   /ping p50 {idle_p50:6.2f} ms  p99 {idle_p99:6.2f} ms")
    print(
        f"logins /ping p50 {load_p50:6.2f} ms  p99 {load_p99:6.2f} ms"
        f"  ({LOGIN_CONCURRENCY} concurrent logins, ~{sum(rates) / len(rates):.1f} logins/s)"
    )
    print(f"p99 ratio loaded/idle {load_p99 / idle_p99:.2f} (target <= 2.0)")


if __name__ == "__main__":
    asyncio.run(main())
