"""The whole spaps backbone on one route, against a template stack and bare FastAPI.

One uvicorn worker pinned to CPU 0, ``wrk`` pinned to CPU 1, loopback Redis, all in one
run. Part 1 (throughput): an authenticated (JWT bearer), tenant-scoped, rate-limited
(Redis, limit never reached) ``GET /v1/items`` served by each case of ``_apps.py``:

* ``spaps``: spaps-ops ``create_app`` + spaps-auth verification + spaps-tenancy tenant
  context + spaps-ratelimit on Redis;
* ``template``: asgi-correlation-id, prometheus-fastapi-instrumentator, a
  ``BaseHTTPMiddleware`` security-headers middleware, a sync PyJWT dependency, slowapi
  on Redis;
* ``bare``: FastAPI with the same handler;
* references: ``ops`` (the spaps-ops shell alone), ``ops_auth`` (plus auth and
  tenancy, no rate limit), so the report shows which layer costs what, and
  ``spaps_deps`` (the same libraries wired as FastAPI dependencies instead of layers).

Cases are interleaved over ``--rounds`` (a fresh order each round) because the machine
is shared; medians are printed with the ratios spaps/template (target >= 3x) and
spaps/bare (target >= 0.45x), each the median of the ratios within a round, in
requests/s and in requests per CPU-second of the server process (``/proc/<pid>/stat``:
what stays comparable when teammates' work takes CPU 0 from the server).

Token mixes (``_load.py``): each case serves, in turn, ``single`` (one token, the
verified-token cache's best case), ``zipf`` (10,000 users' tokens drawn ~ 1/rank^1.1 with
a seeded RNG) and ``uniform`` (the same 10,000 drawn uniformly; with the default 4,096
cache entries ~41% hit); the cache's hit rate in each window (``TokenVerifier.cache_info``
read over ``GET /bench/cache``) is printed beside each figure, ``-`` for the cases
without one.

Part 2 (latency): p99 of ``GET /health/live`` on a spaps-ops app with a password login
route, idle and while ``wrk`` keeps 16 logins (argon2id, OWASP parameters) hashing;
idle and loaded phases alternate. Target: loaded p99 within 2x of idle p99.

Part 3 (first, in-process): JWT verification with the cache missing vs bare PyJWT
(target >= 0.85x), the same HS256 tokens, key and checks where comparable.

Usage: ``python bench/backbone/bench_backbone.py [--seconds 5] [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import redis
from spaps_auth import JsonWebKey, KeySet, TokenCacheInfo, TokenIssuer, TokenVerifier

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _apps  # noqa: E402 -- the helper modules next to this script
from _load import (  # noqa: E402
    USERS,
    ZIPF_S,
    TokenMix,
    Window,
    free_port,
    measure,
    rate_text,
    stop,
    wait_ready,
)
from _load import mixes as token_mixes  # noqa: E402

#: The three compared cases, then references that locate the spaps stack's cost.
CASES = ("spaps", "template", "bare", "ops", "ops_auth", "spaps_deps")
PATH = "/v1/items"
TENANTS = ("acme", "globex")  # user 0 (the single mix's, zipf's busiest) is acme's
LOGINS = 16
PROBES = 300  # per latency phase
PHASES = 3  # idle/loaded pairs


def start_server(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One uvicorn worker pinned to CPU 0 serving ``_apps.<factory>()``."""
    command = [
        "taskset", "-c", "0", sys.executable, "-m", "uvicorn", f"_apps:{factory}",
        "--factory", "--app-dir", str(HERE), "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env)


def check_route(port: int, token: str, case: str) -> None:
    """One request before measuring: the route answers 200 with the tenant's rows."""
    response = httpx.get(
        f"http://127.0.0.1:{port}{PATH}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    body = response.json()
    if response.status_code != 200 or body.get("tenant") != "acme" or not body.get("items"):
        raise RuntimeError(f"{case}: unexpected answer {response.status_code} {response.text}")


def run_case(
    case: str, args: argparse.Namespace, mixes: list[TokenMix], env: dict[str, str]
) -> dict[str, Window]:
    """Start the case's server, check it, measure each token mix in turn, stop it."""
    port = free_port()
    server = start_server(case, port, env)
    windows = {}
    try:
        wait_ready(port, server)
        check_route(port, mixes[0].tokens[0], case)
        for mix in mixes:
            windows[mix.name] = measure(
                f"http://127.0.0.1:{port}", PATH, server.pid, mix,
                seconds=args.seconds, connections=args.connections,
                warmup_seconds=args.warmup,
            )  # fmt: skip
    finally:
        stop(server)
    for mix, window in windows.items():
        if window.non_2xx:
            print(f"  {case} {mix}: {window.non_2xx} of {window.total} not 2xx!", flush=True)
    return windows


def throughput(args: argparse.Namespace, mixes: list[TokenMix], env: dict[str, str]) -> None:
    """Part 1: interleaved rounds of every case and token mix; medians and ratios."""
    names = [mix.name for mix in mixes]
    print(
        f"throughput: GET {PATH}, one uvicorn worker (CPU 0), wrk -c{args.connections} "
        f"(CPU 1), {args.seconds} s per case and mix ({', '.join(names)}), "
        f"{args.rounds} interleaved rounds (median); hit: the verified-token cache's hit "
        "rate in the window",
        flush=True,
    )
    runs: dict[tuple[str, str], list[Window]] = {(c, m): [] for c in CASES for m in names}
    rng = random.Random(8)
    for round_ in range(args.rounds):
        # A fresh order each round, so drifting load from elsewhere hits every case alike.
        for case in rng.sample(CASES, len(CASES)):
            for mix, window in run_case(case, args, mixes, env).items():
                runs[case, mix].append(window)
                print(
                    f"  round {round_ + 1} {case:>10} {mix:>7}: {window.rps:8.0f} req/s  "
                    f"{window.per_cpu:8.0f} req/CPU-s  hit {rate_text(window.hit_rate)}",
                    flush=True,
                )
    print("\nmedians over rounds (req/CPU-s: requests per CPU-second of the server process,")
    print("what stays comparable when other work takes CPU 0 from the server)")
    for mix in names:
        print(f"-- {mix} tokens")
        for case in CASES:
            windows = runs[case, mix]
            rates = [w.hit_rate for w in windows if w.hit_rate is not None]
            print(
                f"{case:>10}: {statistics.median(w.rps for w in windows):8.0f} req/s  "
                f"{statistics.median(w.per_cpu for w in windows):8.0f} req/CPU-s  "
                f"hit {rate_text(statistics.median(rates) if rates else None)}"
            )
    print("ratios: median over rounds of the ratio within each round")
    for mix in names:
        print(f"-- {mix} tokens")
        for case, anchor, target in RATIOS:
            figures = []
            for label in ("req/s", "req/CPU-s"):
                ratio = statistics.median(
                    _figure(a, label) / _figure(b, label)
                    for a, b in zip(runs[case, mix], runs[anchor, mix], strict=True)
                )
                verdict = "" if target is None else (" met" if ratio >= target else " MISSED")
                figures.append(f"{ratio:5.2f}x {label}{verdict}")
            goal = f"target >= {target}x" if target is not None else "reference"
            if (case, anchor) == ("template", "bare"):
                goal = "reference; the issue measured ~0.13x"
            print(f"  {case + '/' + anchor:<15} {'; '.join(figures)}  ({goal})")


RATIOS = (
    ("spaps", "template", 3.0),
    ("spaps", "bare", 0.45),
    ("template", "bare", None),
    ("ops", "bare", None),
    ("ops_auth", "bare", None),
    ("spaps", "ops_auth", None),
    ("spaps_deps", "bare", None),
    ("spaps", "spaps_deps", None),
)


def _figure(window: Window, label: str) -> float:
    return window.rps if label == "req/s" else window.per_cpu


def _per_second(verify: Callable[[str], object], tokens: Iterator[str], calls: int) -> float:
    started = time.process_time()
    for token in itertools.islice(tokens, calls):
        verify(token)
    return calls / (time.process_time() - started)


def jwt_verification(secret: bytes, tokens: list[str], rounds: int) -> None:
    """Part 3: spaps-auth's verification when its cache misses vs bare PyJWT, in-process.

    Both sides verify the same HS256 tokens, cycling through 10,000 distinct ones, with
    the same key and checks where PyJWT has them (signature, ``iss``, ``aud``, ``exp``,
    ``nbf``, ``iat`` and the presence of the claims spaps-auth requires); spaps-auth also
    checks the header's ``typ`` and ``kid``. ``miss`` keeps the default 4,096-entry cache,
    which 10,000 tokens in turn always miss (the lookup, the insertion and the eviction
    are paid); ``off`` is ``cache_size=0``; ``hit`` (reference) one token again and again.
    """
    keys = KeySet([JsonWebKey.from_secret(secret, kid=_apps.KID)])
    required = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]

    def bare(token: str) -> object:
        return jwt.decode(
            token, secret, algorithms=["HS256"], audience=_apps.AUDIENCE, issuer=_apps.ISSUER,
            options={"require": required},
        )  # fmt: skip

    def verifier(cache_size: int) -> TokenVerifier:
        return TokenVerifier(
            keys=keys, issuer=_apps.ISSUER, audience=_apps.AUDIENCE, algorithms=["HS256"],
            cache_size=cache_size,
        )  # fmt: skip

    miss, off, hit = verifier(4096), verifier(0), verifier(4096)
    sides: dict[
        str, tuple[Callable[[str], object], Callable[[], TokenCacheInfo] | None, list[str]]
    ] = {
        "pyjwt": (bare, None, tokens),
        "miss": (miss.verify, miss.cache_info, tokens),
        "off": (off.verify, off.cache_info, tokens),
        "hit": (hit.verify, hit.cache_info, tokens[:1]),
    }
    calls = 2_000
    print(
        f"\nJWT verification in-process (HS256, {len(tokens)} distinct tokens in turn), "
        f"{rounds} interleaved rounds of {calls} calls, process CPU time",
        flush=True,
    )
    rates: dict[str, list[float]] = {side: [] for side in sides}
    # Each side goes on through its tokens from round to round, so "miss" never comes
    # back to a token before 10,000 others pushed it out of the cache.
    turns = {side: itertools.cycle(side_tokens) for side, (_, _, side_tokens) in sides.items()}
    rng = random.Random(9)
    for _ in range(rounds):
        for side in rng.sample(list(sides), len(sides)):
            rates[side].append(_per_second(sides[side][0], turns[side], calls))
    for side in sides:
        info = sides[side][1]
        hit = "" if info is None else f"  hit {rate_text(_hit_rate(info()))}"
        print(f"{side:>6}: {statistics.median(rates[side]):9.0f} verifications/s{hit}")
    for side, target in (("miss", 0.85), ("off", 0.85), ("hit", None)):
        ratio = statistics.median(a / b for a, b in zip(rates[side], rates["pyjwt"], strict=True))
        goal = (
            f"target >= {target}x: {'met' if ratio >= target else 'MISSED'}"
            if target
            else "reference"
        )
        print(f"  {side}/pyjwt {ratio:5.2f}x  ({goal})")


def _hit_rate(info: TokenCacheInfo) -> float | None:
    total = info.hits + info.misses
    return info.hits / total if total else None


async def _probe(client: httpx.AsyncClient, n: int) -> list[float]:
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get("/health/live")
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        await asyncio.sleep(0.005)
    return latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _start_logins(port: int, script: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{LOGINS}", "-d60s", "--timeout", "30s",
         "-s", str(script), f"http://127.0.0.1:{port}/login"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


async def _latency(port: int, script: Path) -> tuple[list[float], list[float], list[float]]:
    idle: list[float] = []
    loaded: list[float] = []
    rates: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        await _probe(client, 50)  # warm-up
        for _ in range(PHASES):
            idle += await _probe(client, PROBES)
            logins = _start_logins(port, script)
            try:
                await asyncio.sleep(1.0)  # let the login burst ramp up
                loaded += await _probe(client, PROBES)
            finally:
                logins.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
                output, _ = logins.communicate(timeout=30)
            found = re.search(r"Requests/sec:\s+([\d.]+)", output)
            rates.append(float(found.group(1)) if found else float("nan"))
            if "Non-2xx" in output:
                print("  some logins did not answer 2xx!", flush=True)
            await asyncio.sleep(1.0)  # let queued logins drain before the next idle phase
    return idle, loaded, rates


def latency(env: dict[str, str]) -> None:
    """Part 2: p99 of /health/live idle vs while 16 logins hash passwords."""
    print(
        f"\nlatency: GET /health/live on a spaps-ops app, idle vs {LOGINS} concurrent "
        f"logins (argon2id), {PHASES} alternating phase pairs of {PROBES} probes",
        flush=True,
    )
    script = HERE / f".login-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = \'{{"username": "alice", "password": "{_apps.PASSWORD}"}}\'\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    port = free_port()
    server = start_server("login", port, env)
    affinity = os.sched_getaffinity(0)
    try:
        wait_ready(port, server)
        os.sched_setaffinity(0, {1})  # the probing client shares CPU 1 with wrk
        idle, loaded, rates = asyncio.run(_latency(port, script))
    finally:
        os.sched_setaffinity(0, affinity)
        stop(server)
        script.unlink(missing_ok=True)
    idle_p99, load_p99 = _percentile(idle, 0.99) * 1e3, _percentile(loaded, 0.99) * 1e3
    print(f"idle   p50 {_percentile(idle, 0.5) * 1e3:6.2f} ms  p99 {idle_p99:6.2f} ms")
    print(
        f"logins p50 {_percentile(loaded, 0.5) * 1e3:6.2f} ms  p99 {load_p99:6.2f} ms  "
        f"(~{statistics.fmean(rates):.1f} logins/s)"
    )
    ratio = load_p99 / idle_p99
    print(f"p99 loaded/idle = {ratio:5.2f}x  (target <= 2.0x: {'met' if ratio <= 2 else 'MISSED'})")


def cleanup(redis_url: str, prefix: str) -> int:
    """Delete every Redis key this run created; how many there were."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    deleted = 0
    try:
        # slowapi (``limits``) writes "LIMITS:LIMITER/<prefix>...": match the prefix
        # anywhere (it carries this run's random id, so nothing else matches).
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            deleted += int(client.delete(*keys))
    finally:
        client.close()
    return deleted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load per case")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--warmup", type=float, default=10,
        help="longest warm-up per window in seconds (it ends sooner once the server "
        "verified 12,000 tokens)",
    )  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 s windows, 3 s warm-ups at most, 1 round, no latency part",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.skip_latency, args.warmup = 2, 1, True, 3
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    if (os.cpu_count() or 1) < 2:
        print("needs two CPUs (server on CPU 0, wrk on CPU 1)", file=sys.stderr)
        return 1
    secret = secrets.token_bytes(32)
    prefix = f"bench:backbone:{uuid.uuid4().hex[:8]}:"
    env = {
        **os.environ,
        "BENCH_REDIS_URL": args.redis_url,
        "BENCH_PREFIX": prefix,
        "BENCH_JWT_SECRET": secret.hex(),
    }
    issuer = TokenIssuer(
        keys=KeySet([JsonWebKey.from_secret(secret, kid=_apps.KID)]),
        issuer=_apps.ISSUER,
        audience=_apps.AUDIENCE,
        access_ttl=3600,
    )
    mixes = token_mixes(
        lambda user: issuer.issue(
            f"user-{user}", roles=["member"], extra={_apps.TENANT_CLAIM: TENANTS[user % 2]}
        )
    )
    parser_name = "httptools" if importlib.util.find_spec("httptools") else "h11"
    print(
        f"uvicorn http={parser_name}; HS256 bearer tokens of {USERS} users of the tenants "
        f"{' and '.join(TENANTS)}; mixes: single (one token), zipf (s={ZIPF_S}), uniform\n",
        flush=True,
    )
    started = time.monotonic()
    try:
        jwt_verification(secret, mixes[-1].tokens, 5 if args.quick else 15)
        throughput(args, mixes, env)
        if not args.skip_latency:
            latency(env)
    finally:
        deleted = cleanup(args.redis_url, prefix)
        print(f"\n{deleted} Redis keys of this run deleted; {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
