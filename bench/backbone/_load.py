"""Load-generation helpers shared by ``bench_backbone.py`` and ``bench/services``.

* **Token mixes.** Real traffic is many users, each repeating their own token: a
  ``TokenMix`` is a list of distinct tokens (one per user) and a seeded order in which
  requests present them. ``single`` is one token (the verified-token cache's best case),
  ``zipf`` draws 10,000 users' tokens with probability ~ 1/rank^1.1 (a few busy users, a
  long tail), ``uniform`` draws the same 10,000 uniformly (the cache's worst realistic
  case: with its default 4,096 entries about 41% of requests hit).
* **wrk** with a Lua script that presents the mix's tokens in order, starting at a given
  offset so a warm-up and the measured window use different parts of the order; pinned
  to CPU 1 while the server runs on CPU 0.
* **Warm-up** until the server verified 12,000 tokens (the steady state of a 4,096-entry
  cache under 10,000 users), at least a second and at most ``warmup_seconds``.
* **Cache statistics** read over ``GET /bench/cache`` (``TokenVerifier.cache_info()`` of
  the server's verifier as JSON), before and after a window: the hit rate of the window.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

USERS = 10_000
ZIPF_S = 1.1
ORDER_LENGTH = 200_000  # a window never wraps at the rates one worker reaches
MEASURE_OFFSET = ORDER_LENGTH // 2  # warm-ups start at 0, measured windows here
CACHE_PATH = "/bench/cache"

LUA = """\
local tokens, order, i = {}, {}, 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = "Bearer " .. line end
  for line in io.lines(args[2]) do order[#order + 1] = tonumber(line) end
  i = tonumber(args[3]) or 0
end
function request()
  i = i % #order + 1
  return wrk.format(nil, nil, {["Authorization"] = tokens[order[i]]})
end
"""


@dataclass(frozen=True)
class TokenMix:
    """Distinct tokens and the order (indexes into ``tokens``) requests present them in."""

    name: str
    tokens: list[str]
    order: list[int]


def mixes(issue: Callable[[int], str], *, seed: int = 16) -> list[TokenMix]:
    """The ``single``, ``zipf`` and ``uniform`` mixes over ``issue(user)`` for 10,000 users.

    ``zipf`` and ``uniform`` share the tokens; user 0 is the busiest under ``zipf`` and
    the ``single`` mix's only user.
    """
    tokens = [issue(user) for user in range(USERS)]
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(USERS)))
    zipf = rng.choices(range(USERS), cum_weights=weights, k=ORDER_LENGTH)
    uniform = [rng.randrange(USERS) for _ in range(ORDER_LENGTH)]
    return [
        TokenMix("single", tokens[:1], [0]),
        TokenMix("zipf", tokens, zipf),
        TokenMix("uniform", tokens, uniform),
    ]


@contextmanager
def mix_files(mix: TokenMix) -> Iterator[tuple[Path, Path, Path]]:
    """The Lua script, the tokens file and the order file of ``mix`` (1-based indexes)."""
    with tempfile.TemporaryDirectory(prefix="spaps-bench-") as tmp:
        script, tokens, order = Path(tmp, "mix.lua"), Path(tmp, "tokens"), Path(tmp, "order")
        script.write_text(LUA)
        tokens.write_text("\n".join(mix.tokens) + "\n")
        order.write_text("\n".join(str(i + 1) for i in mix.order) + "\n")
        yield script, tokens, order


def free_port() -> int:
    """A free TCP port on loopback (uvicorn binds it again at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the server accepts connections (or fail when it exits or hangs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process we started, then kill it if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, seconds: int, connections: int, files: tuple[Path, Path, Path], offset: int
) -> tuple[float, int, int]:
    """Run wrk on CPU 1 presenting the mix's tokens from ``offset``; requests/s,
    requests and non-2xx responses."""
    script, tokens, order = files
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
         "-s", str(script), url, "--", str(tokens), str(order), str(offset)],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return float(rate.group(1)), int(total.group(1)), int(non_2xx.group(1)) if non_2xx else 0


def cache_counts(base_url: str) -> tuple[int, int] | None:
    """The server's verified-token cache (hits, misses), or None when it has none."""
    response = httpx.get(base_url + CACHE_PATH, timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body = response.json()
    return int(body["hits"]), int(body["misses"])


@dataclass(frozen=True)
class Window:
    """One measured window: requests/s, requests per server CPU-second, cache hit rate."""

    rps: float
    per_cpu: float
    hit_rate: float | None
    non_2xx: int
    total: int


def warm_up(
    base_url: str,
    url: str,
    connections: int,
    files: tuple[Path, Path, Path],
    *,
    requests: int,
    longest: float,
) -> None:
    """Present the start of the mix's order for at least a second and, on servers with a
    cache probe, until they verified ``requests`` tokens or ``longest`` seconds passed: a
    cache sized below the mix's users is then in (or near) its steady state. The window's
    hit rate is measured, not assumed, so a slow server's shorter warm-up shows in it."""
    script, tokens, order = files
    before = cache_counts(base_url)
    process = subprocess.Popen(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", "-d300s",
         "-s", str(script), url, "--", str(tokens), str(order), "0"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    try:
        while time.monotonic() - started < longest:
            time.sleep(0.25)
            if time.monotonic() - started < 1:
                continue
            now = cache_counts(base_url)
            if before is None or now is None or sum(now) - sum(before) >= requests:
                break
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def prime(url: str, tokens: list[str], *, connections: int = 8) -> None:
    """Present every distinct token once, as a service that has been running for a while
    has seen each of its active users: per-user state (remembered sessions, a warm
    database cache) is then in place, whatever the server's rate. The verified-token
    cache keeps only the newest of them; the warm-up before each window sets it."""

    async def send_all() -> None:
        queue = iter(tokens)
        async with httpx.AsyncClient(timeout=60) as client:

            async def worker() -> None:
                for token in queue:
                    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
                    response.raise_for_status()

            await asyncio.gather(*(worker() for _ in range(connections)))

    asyncio.run(send_all())


def measure(
    base_url: str,
    path: str,
    pid: int,
    mix: TokenMix,
    *,
    seconds: int,
    connections: int,
    warmup: int = 12_000,
    warmup_seconds: float = 10,
) -> Window:
    """Warm up with the start of ``mix``'s order (``warm_up``: ``warmup`` verifications
    when the mix has more than one token), then measure a window from its middle."""
    url = base_url + path
    with mix_files(mix) as files:
        warm_up(
            base_url, url, connections, files,
            requests=warmup if len(mix.tokens) > 1 else 0, longest=max(1.0, warmup_seconds),
        )  # fmt: skip
        before = cache_counts(base_url)
        cpu_before = cpu_seconds(pid)
        rps, total, non_2xx = wrk(url, seconds, connections, files, MEASURE_OFFSET)
        cpu = cpu_seconds(pid) - cpu_before
        after = cache_counts(base_url)
    return Window(
        rps, total / cpu if cpu else float("nan"), hit_rate(before, after), non_2xx, total
    )


def hit_rate(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The hit rate between two ``cache_counts`` readings (``None``: no cache)."""
    if before is None or after is None:
        return None
    hits, misses = after[0] - before[0], after[1] - before[1]
    return hits / (hits + misses) if hits + misses else None


def rate_text(hit_rate: float | None) -> str:
    """A hit rate as printed beside a figure (``-``: the case has no verified-token cache)."""
    return "   -  " if hit_rate is None else f"{hit_rate:6.1%}"
