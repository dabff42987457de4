"""HTTP benchmark: spaps-ratelimit vs slowapi and fastapi-limiter, in one run.

One uvicorn worker pinned to core 0, wrk pinned to core 1, loopback Redis; each case
serves the same ``GET /limited`` with a limit nothing reaches. Prints requests/s per
case and the ratios the issue sets targets for:

* spaps with Redis >= 1.5x slowapi (Redis) and >= 1.5x fastapi-limiter (Redis);
* spaps with the memory store >= 0.85x the unlimited route.

Usage: ``python bench/ratelimit/bench_http.py [--seconds 5] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
CASES = [
    "unlimited",
    "spaps_memory",
    "spaps_redis",
    "slowapi_memory",
    "slowapi_redis",
    "fastapi_limiter_redis",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def wrk(port: int, seconds: float, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s",
         f"http://127.0.0.1:{port}/limited"],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(non_2xx.group(1)) if non_2xx else 0


def run_case(case: str, seconds: float, connections: int, env: dict[str, str]) -> float:
    """Start the case's server, warm it up, measure, stop it; requests/s."""
    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", f"_apps:{case}", "--factory",
         "--app-dir", str(HERE), "--port", str(port), "--workers", "1",
         "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    try:
        wait_ready(port, server)
        wrk(port, 1, connections)  # warm-up
        rps, non_2xx = wrk(port, seconds, connections)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    if non_2xx:
        print(f"  {case}: {non_2xx} non-2xx responses: the limit was reached!", flush=True)
    return rps


def cleanup(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    # slowapi (limits) puts "LIMITS:" in front of its key prefix.
    keys = list(client.scan_iter(match="LIMITS:" + prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    prefix = f"bench:ratelimit:{uuid.uuid4().hex[:8]}:"
    env = {**os.environ, "BENCH_REDIS_URL": args.redis_url, "BENCH_PREFIX": prefix}
    print(f"one uvicorn worker (core 0), wrk -c{args.connections} (core 1), "
          f"{args.seconds:.0f} s per case, {args.rounds} interleaved rounds (median)")  # fmt: skip
    samples: dict[str, list[float]] = {case: [] for case in CASES}
    rng = random.Random(4)
    try:
        # Rounds interleave the cases, in a fresh order each round, so load from
        # elsewhere on the machine hits them all alike.
        for _ in range(args.rounds):
            for case in rng.sample(CASES, len(CASES)):
                samples[case].append(run_case(case, args.seconds, args.connections, env))
    finally:
        cleanup(args.redis_url, prefix)
    for case in CASES:
        runs = " ".join(f"{v:.0f}" for v in samples[case])
        print(f"{case:<24} {statistics.median(samples[case]):>9.0f} req/s   (runs: {runs})")
    print()
    print("ratios: median over rounds of the ratio within each round")
    pairs = [
        ("spaps_redis", "slowapi_redis", 1.5),
        ("spaps_redis", "fastapi_limiter_redis", 1.5),
        ("spaps_memory", "unlimited", 0.85),
        ("slowapi_memory", "unlimited", None),
        ("spaps_redis", "unlimited", None),
        ("slowapi_redis", "unlimited", None),
        ("fastapi_limiter_redis", "unlimited", None),
    ]
    for case, anchor, target in pairs:
        ratio = statistics.median(
            a / b for a, b in zip(samples[case], samples[anchor], strict=True)
        )
        verdict = ""
        if target is not None:
            verdict = f"  target >= {target}: " + ("met" if ratio >= target else "MISSED")
        print(f"{case + ' / ' + anchor:<40} {ratio:5.2f}x{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
