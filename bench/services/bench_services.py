"""Both services' main authenticated read route under realistic token mixes, against
their 0.4.0 dependency wiring and the template stack, on PostgreSQL and Redis.

Routes (the read each service exists to serve):

* htma ``GET /v1/panels``: a practitioner lists the clinic's panels (newest 20), the
  view every staff session starts from; it runs the whole stack -- token, session
  revocation check, clinic tenancy, the clinic's plan limit on Redis, a tenant-filtered
  query;
* ingredient ``GET /v1/ingredients/D063``: one ingredient with its composition, what
  every search hit and every htma recommendation leads to; a keyed read, so the stack
  (htma's token through its JWKS, the per-plan limit on Redis) is what is compared rather
  than a catalog-wide sort.

Cases, each one uvicorn worker pinned to CPU 0, ``wrk`` pinned to CPU 1:

* ``layered``: the service as the workspace holds it (auth, tenancy and limits as pure-ASGI
  layers);
* ``v0.4.0``: the service as released at 0.4.0 (FastAPI-dependency wiring), its source
  extracted from git at ``RELEASE_COMMIT`` and put ahead of the workspace's on
  ``PYTHONPATH``, with the same libraries, database and Redis;
* ``template``: the same route, query and response model on the template stack
  (``_apps.py``);
* ``bare`` (reference): the route's query and response model alone;
* ``stack`` (reference): the layered service with an endpoint in front of the route, at
  its path, with its dependencies and without its query (``_apps.py``): the stack's
  share of a request, so (layered - stack) is what the route's query and response cost.

Methods (``--method``):

* ``interleaved`` (the default): every case's server runs for the whole run, primed
  once, and each round gives every case one window in turn (``_interleaved.py``), so the
  windows compared within a round lie seconds apart and a drift of the machine's speed,
  tens of percent within minutes on a shared host, slows them nearly alike;
* ``sequential``: each case's server is started, primed and measured in turn, so the
  windows compared lie a minute or more apart.

Token mixes (``bench/backbone/_load.py``): 10,000 users' tokens drawn ``zipf`` (s=1.1,
seeded) and ``uniform``; the verified-token cache's hit rate in each window is printed
beside each figure (``-``: no such cache). Ratios, each the median over rounds of the
ratio within a round: layered/template (target >= 3x under the uniform mix) and
layered/v0.4.0 (target >= 1.5x), in requests/s and requests per server CPU-second; and
µs of server CPU per request for each case, so the cost of the stack in front of the
query reads as (case - bare).

Servers: uvicorn with uvloop and httptools where installed, as the services' ``serve``
runs (both are the services' dependencies); ``--loop asyncio --http h11`` measures the
pure-Python alternatives.

Usage: ``python bench/services/bench_services.py [--seconds 5] [--rounds 3] [--quick]
[--only htma|ingredient] [--method interleaved|sequential] [--loop ...] [--http ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

import httpx
import psycopg
import redis
from spaps_auth import JsonWebKey

HERE = Path(__file__).resolve().parent
BACKBONE = HERE.parent / "backbone"
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(BACKBONE)]
import _seed  # noqa: E402 -- the helper modules next to this script and the backbone's
from _interleaved import interleaved  # noqa: E402
from _layers import LAYERS_PATH  # noqa: E402
from _load import (  # noqa: E402
    MEASURE_OFFSET,
    USERS,
    TokenMix,
    Window,
    free_port,
    measure,
    mix_files,
    prime,
    rate_text,
    stop,
    wait_ready,
    wrk,
)
from _load import mixes as token_mixes  # noqa: E402

#: htma 0.4.0 and ingredient 0.4.0 as released: the commit that recorded them in the
#: compatibility matrix (their sources are those of the last change before it).
RELEASE_COMMIT = "ba2566751148193377008ba6017e6256f11296cc"  # pragma: allowlist secret
CASES = ("layered", "v0.4.0", "template", "bare", "stack")
ROUTES = {"htma": "/v1/panels", "ingredient": f"/v1/ingredients/{_seed.INGREDIENT_CODE}"}
MIXES = ("zipf", "uniform")
#: PostgreSQL pools (connections kept open, more opened under load) of each case's server.
#: layered, v0.4.0: the services' own (spaps-ops' default, which 0.4.0's settings cannot
#: change); bare: the same (``BARE_POOL`` in ``_apps.py``), so that the floor it stands
#: for opens no more connections than the service; template: SQLAlchemy's default, as
#: templates write it. stack: the services' ``*_DATABASE_POOL_SIZE`` and
#: ``*_DATABASE_MAX_OVERFLOW`` at SQLAlchemy's default too: its route runs no query, so it
#: needs connections only while it is primed (each new session read once). With the
#: services' pool it would keep 20 idle, and one service's five servers would then hold up
#: to 95 connections, past PostgreSQL's default 100 with other clients ("too many
#: clients" answered to the loaded server, as in one run).
POOLS = {
    "layered": (20, 10), "v0.4.0": (20, 10), "template": (5, 10), "bare": (20, 10),
    "stack": (5, 10),
}  # fmt: skip
#: The ``_apps.py`` factory serving each service's cases (the released and the layered
#: service run the same factory: PYTHONPATH decides whose code it imports).
TARGETS = {
    ("htma", "service"): "_apps:htma",
    ("htma", "template"): "_apps:htma_template",
    ("htma", "bare"): "_apps:htma_bare",
    ("htma", "stack"): "_apps:htma_stack",
    ("htma", "layers"): "_apps:htma_layers",
    ("ingredient", "service"): "_apps:ingredient",
    ("ingredient", "template"): "_apps:ingredient_template",
    ("ingredient", "bare"): "_apps:ingredient_bare",
    ("ingredient", "stack"): "_apps:ingredient_stack",
    ("ingredient", "layers"): "_apps:ingredient_layers",
}


class Setup(NamedTuple):
    """What every case of one service runs with."""

    service: str
    args: argparse.Namespace
    mixes: list[TokenMix]
    env: dict[str, dict[str, str]]  # per case
    cwd: Path


def extract_release(dest: Path) -> dict[str, Path]:
    """The 0.4.0 ``src`` folders of both services, extracted from git under ``dest``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", RELEASE_COMMIT,
         "services/htma/src", "services/ingredient/src"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return {name: dest / "services" / name / "src" for name in ROUTES}


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def serve_jwks(key: JsonWebKey) -> ThreadingHTTPServer:
    """Publish ``key`` as a JWKS document on loopback, as htma publishes its keys."""
    _Jwks.body = json.dumps({"keys": [key.public_jwk()]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_server(target: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """One uvicorn worker pinned to CPU 0 serving ``target`` (``_apps:<factory>``)."""
    command = [
        "taskset", "-c", "0", sys.executable, "-m", "uvicorn", target,
        "--factory", "--app-dir", str(HERE), "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=cwd)


def check_route(base: str, path: str, token: str, label: str, *, empty: bool = False) -> None:
    """One request before measuring: the route answers 200 with data (``empty``: with an
    empty body, as the ``stack`` case does)."""
    response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if response.status_code != 200 or bool(response.json()) == empty:
        raise RuntimeError(f"{label}: unexpected answer {response.status_code} {response.text}")


def run_case(
    *,
    service: str,
    case: str,
    args: argparse.Namespace,
    mixes: list[TokenMix],
    env: dict[str, str],
    cwd: Path,
) -> dict[str, Window]:
    """Start one case's server, check it, measure each mix, stop it."""
    factory = TARGETS[service, "service" if case in {"layered", "v0.4.0"} else case]
    port = free_port()
    server = start_server(factory, port, env, cwd)
    base = f"http://127.0.0.1:{port}"
    windows = {}
    try:
        wait_ready(port, server)
        check_route(
            base, ROUTES[service], mixes[0].tokens[0], f"{service} {case}", empty=case == "stack"
        )
        prime(base + ROUTES[service], mixes[0].tokens)  # the mixes share their tokens
        for mix in mixes:
            windows[mix.name] = measure(
                base, ROUTES[service], server.pid, mix,
                seconds=args.seconds, connections=args.connections,
                warmup_seconds=args.warmup,
            )  # fmt: skip
    finally:
        stop(server)
    return windows


def layer_times(
    *, service: str, seconds: int, mix: TokenMix, env: dict[str, str], cwd: Path
) -> tuple[int, list[tuple[str, float, float]]]:
    """Requests and µs per request of each layer's own wall and CPU time (``_layers.py``),
    one request at a time: the service with timers between its layers, under ``mix``."""
    port = free_port()
    server = start_server(TARGETS[service, "layers"], port, env, cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(port, server)
        check_route(base, ROUTES[service], mix.tokens[0], f"{service} layers")
        prime(base + ROUTES[service], mix.tokens)
        with mix_files(mix) as files:
            wrk(base + ROUTES[service], 2, 1, files, 0)  # warm-up
            before = httpx.get(base + LAYERS_PATH, timeout=10).json()
            wrk(base + ROUTES[service], seconds, 1, files, MEASURE_OFFSET)
            after = httpx.get(base + LAYERS_PATH, timeout=10).json()
    finally:
        stop(server)
    requests = after["requests"] - before["requests"]
    inside = [
        (name, (wall - wall0) / requests * 1e6, (cpu - cpu0) / requests * 1e6)
        for (name, wall, cpu), (_, wall0, cpu0) in zip(
            after["layers"], before["layers"], strict=True
        )
    ]
    own = []
    for i, (name, wall, cpu) in enumerate(inside):
        inner = inside[i + 1] if i + 1 < len(inside) else (name, 0.0, 0.0)
        own.append((name, wall - inner[1], cpu - inner[2]))
    return requests, own


def print_layers(
    service: str, case: str, requests: int, own: list[tuple[str, float, float]]
) -> None:
    """The layer table: µs of wall-clock time (waits included) and of CPU per request."""
    print(
        f"\n{service} {case}: µs per request in each layer itself, one request at a time "
        f"({requests} requests, uniform tokens; wall includes PostgreSQL/Redis waits)"
    )
    print(f"  {'wall':>8}     {'CPU':>8}")
    for name, wall, cpu in own:
        print(f"  {wall:8.0f} µs  {cpu:8.0f} µs  {name}")
    print(
        f"  {sum(w for _, w, _ in own):8.0f} µs  {sum(c for _, _, c in own):8.0f} µs  "
        "inside the outermost layer, in all"
    )


def paired(
    runs: dict[tuple[str, str], list[Window]], case: str, anchor: str, mix: str
) -> list[tuple[Window, Window]]:
    """The windows of ``case`` and ``anchor`` under ``mix``, round by round; empty unless
    both ran in every round."""
    if len(runs[case, mix]) != len(runs[anchor, mix]):
        return []
    return list(zip(runs[case, mix], runs[anchor, mix], strict=True))


def report(service: str, runs: dict[tuple[str, str], list[Window]]) -> None:
    """Medians, µs of server CPU per request, hit rates and the ratios of one service."""
    print(f"\n{service} {ROUTES[service]}: medians over rounds")
    for mix in MIXES:
        print(f"-- {mix} tokens")
        for case in CASES:
            windows = runs[case, mix]
            if not windows:
                print(f"{case:>10}: did not run")
                continue
            rates = [w.hit_rate for w in windows if w.hit_rate is not None]
            per_cpu = statistics.median(w.per_cpu for w in windows)
            print(
                f"{case:>10}: {statistics.median(w.rps for w in windows):8.0f} req/s  "
                f"{per_cpu:8.0f} req/CPU-s  {1e6 / per_cpu:7.0f} µs CPU/req  "
                f"hit {rate_text(statistics.median(rates) if rates else None)}"
            )
    print("ratios: median over rounds of the ratio within each round")
    for mix in MIXES:
        print(f"-- {mix} tokens")
        for case, anchor, target in (
            ("layered", "template", 3.0),
            ("layered", "v0.4.0", 1.5),
            ("v0.4.0", "template", None),
            ("layered", "bare", None),
        ):
            pairs = paired(runs, case, anchor, mix)
            if not pairs:
                print(f"  {case + '/' + anchor:<17} missing runs")
                continue
            figures = []
            for label in ("req/s", "req/CPU-s"):
                ratio = statistics.median(
                    (a.rps / b.rps) if label == "req/s" else (a.per_cpu / b.per_cpu)
                    for a, b in pairs
                )
                verdict = "" if target is None else (" met" if ratio >= target else " MISSED")
                figures.append(f"{ratio:5.2f}x {label}{verdict}")
            goal = f"target >= {target}x" if target is not None else "reference"
            print(f"  {case + '/' + anchor:<17} {'; '.join(figures)}  ({goal})")
    print("split of the layered service's CPU per request: median over rounds")
    for mix in MIXES:
        pairs = paired(runs, "layered", "stack", mix)
        if not pairs:
            print(f"-- {mix} tokens: missing runs")
            continue
        stack_us = statistics.median(1e6 / b.per_cpu for _, b in pairs)
        route_us = statistics.median(1e6 / a.per_cpu - 1e6 / b.per_cpu for a, b in pairs)
        total_us = statistics.median(1e6 / a.per_cpu for a, _ in pairs)
        print(
            f"-- {mix} tokens: stack and dependencies {stack_us:5.0f} µs; the route's query "
            f"and response (layered - stack) {route_us:5.0f} µs, {route_us / total_us:4.0%}"
        )


def environments(
    *,
    args: argparse.Namespace, tmp: Path, release: dict[str, Path], urls: dict[str, str],
    jwks_url: str, run: str,
) -> dict[str, dict[str, str]]:  # fmt: skip
    """Per case, the environment of its server (one for both services)."""
    plans = json.dumps({"standard": f"{10**9}/hour"})
    common = {
        **os.environ,
        "UVICORN_LOOP": args.loop,  # uvicorn's command line reads UVICORN_<OPTION>
        "UVICORN_HTTP": args.http,
        "BENCH_REDIS_URL": args.redis_url,
        "BENCH_PREFIX": f"bench:services:{run}:",
        "BENCH_CLINIC": _seed.clinic_of(run, 0),
        "HTMA_DATABASE_URL": urls["htma"],
        "HTMA_REDIS_URL": args.redis_url,
        "HTMA_SIGNING_KEYS_PATH": str(tmp / "htma-keys.json"),
        "HTMA_PLANS": plans,
        "HTMA_ACCESS_TTL": str(_seed.TOKEN_TTL),
        "HTMA_COMPUTE_MODE": "inline",
        "HTMA_INGREDIENT_URL": "http://127.0.0.1:9",
        "INGREDIENT_DATABASE_URL": urls["ingredient"],
        "INGREDIENT_REDIS_URL": args.redis_url,
        "INGREDIENT_HTMA_JWKS_URL": jwks_url,
        "INGREDIENT_PLANS": json.dumps({"free": f"{10**9}/hour", "token": f"{10**9}/hour"}),
    }
    path = [str(BACKBONE)]
    released = [str(release["htma"]), str(release["ingredient"]), *path]
    size, overflow = (str(n) for n in POOLS["stack"])
    stack_pool = {
        f"{prefix}_DATABASE_{name}": value
        for prefix in ("HTMA", "INGREDIENT")
        for name, value in (("POOL_SIZE", size), ("MAX_OVERFLOW", overflow))
    }
    return {
        **{case: {**common, "PYTHONPATH": os.pathsep.join(path)} for case in CASES},
        "v0.4.0": {**common, "PYTHONPATH": os.pathsep.join(released)},
        "stack": {**common, **stack_pool, "PYTHONPATH": os.pathsep.join(path)},
    }


def bench_service(setup: Setup) -> None:
    """Every case of the service over rounds of one case after another, the report, the
    layer times."""
    service, args, mixes, env, cwd = setup
    rng = random.Random(16)
    runs: dict[tuple[str, str], list[Window]] = {(c, m): [] for c in CASES for m in MIXES}
    errors = (RuntimeError, subprocess.SubprocessError, httpx.HTTPError)
    for round_ in range(args.rounds):
        for case in rng.sample(CASES, len(CASES)):
            try:
                windows = run_case(
                    service=service, case=case, args=args, mixes=mixes, env=env[case], cwd=cwd
                )
            except errors as e:
                print(f"  {service} {case}: failed to run: {e}", flush=True)
                continue
            for mix, window in windows.items():
                runs[case, mix].append(window)
                print_window(round_ + 1, service, case, mix, window)
    report(service, runs)
    report_layers(setup)


def print_window(round_: int, service: str, case: str, mix: str, window: Window) -> None:
    """One measured window, as it is measured."""
    bad = f"  {window.non_2xx} of {window.total} not 2xx!" if window.non_2xx else ""
    print(
        f"  round {round_} {service} {case:>8} {mix:>7}: "
        f"{window.rps:7.0f} req/s  {window.per_cpu:7.0f} req/CPU-s  "
        f"hit {rate_text(window.hit_rate)}{bad}",
        flush=True,
    )


def report_layers(setup: Setup) -> None:
    """The layer tables of the layered service and of its 0.4.0 wiring."""
    service, args, mixes, env, cwd = setup
    errors = (RuntimeError, subprocess.SubprocessError, httpx.HTTPError)
    for case in ("layered", "v0.4.0"):
        try:
            requests, own = layer_times(
                service=service, seconds=args.seconds, mix=mixes[-1], env=env[case], cwd=cwd
            )
        except errors as e:
            print(f"  {service} {case} layers: failed to run: {e}", flush=True)
            continue
        print_layers(service, case, requests, own)


def bench_service_interleaved(setup: Setup) -> None:
    """Every case's server up at once, the cases taking turns (``_interleaved.py``); the report,
    the layer times."""
    service, args, mixes, env, cwd = setup
    servers: list[tuple[str, subprocess.Popen[bytes], str]] = []
    runs: dict[tuple[str, str], list[Window]] = {}
    try:
        for case in CASES:
            factory = TARGETS[service, "service" if case in {"layered", "v0.4.0"} else case]
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            servers.append((case, start_server(factory, port, env[case], cwd), base))
            wait_ready(port, servers[-1][1])
            check_route(
                base,
                ROUTES[service],
                mixes[0].tokens[0],
                f"{service} {case}",
                empty=case == "stack",
            )
            prime(base + ROUTES[service], mixes[0].tokens)
        loaded = [(case, base, server.pid) for case, server, base in servers]
        for mix in mixes:
            windows = interleaved(
                loaded, ROUTES[service], mix, seconds=args.seconds,
                connections=args.connections, rounds=args.rounds, warmup=int(args.warmup),
            )  # fmt: skip
            for case, measured in windows.items():
                runs[case, mix.name] = measured
                for round_, window in enumerate(measured, 1):
                    print_window(round_, service, case, mix.name, window)
    finally:
        for _, server, _ in servers:
            stop(server)
    report(service, runs)
    report_layers(setup)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load per window")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--warmup", type=float, default=10,
        help="longest warm-up per window in seconds (it ends sooner once the server "
        "verified 12,000 tokens)",
    )  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=sorted(ROUTES), action="append")
    parser.add_argument(
        "--method", choices=("interleaved", "sequential"), default="interleaved",
        help="interleaved: every case's server stays up and the cases take turns of one "
        "window per round (windows compared lie seconds apart); sequential: each case's "
        "server started, primed and measured in turn, rounds minutes apart",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help="3 s windows, 5 s warm-ups at most, 1 round"
    )
    parser.add_argument(
        "--loop", choices=("auto", "uvloop", "asyncio"), default="auto",
        help="every server's event loop (auto: uvloop where installed, as `serve` runs)",
    )  # fmt: skip
    parser.add_argument(
        "--http", choices=("auto", "httptools", "h11"), default="auto",
        help="every server's HTTP parser (auto: httptools where installed, as `serve` runs)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.warmup = 3, 1, 5
    # A terminated run still drops its databases and Redis keys (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for tool in ("wrk", "taskset", "git"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    services = args.only or sorted(ROUTES)
    room, peak = connection_room(args.postgres_url), peak_connections()
    if room < peak:
        print(
            f"PostgreSQL accepts {room} more connections; the servers can hold {peak} at "
            "once: raise max_connections or end other clients",
            file=sys.stderr,
        )
        return 1
    run = uuid.uuid4().hex[:8]
    names = {service: f"bench_{service}_{run}" for service in ROUTES}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="spaps-bench-services-") as tmp_name:
        tmp = Path(tmp_name)
        release = extract_release(tmp / "release")
        jwks_key = JsonWebKey.generate("EdDSA", kid="bench-htma")
        jwks = serve_jwks(jwks_key)
        urls: dict[str, str] = {}
        try:
            print(f"seeding ({USERS} users' tokens per service) ...", flush=True)
            urls = {s: _seed.create_database(args.postgres_url, names[s]) for s in ROUTES}
            tokens = {
                "htma": asyncio.run(
                    _seed.seed_htma(urls["htma"], tmp / "htma-keys.json", run, USERS)
                ),
                "ingredient": _seed.htma_style_tokens(jwks_key, USERS, run),
            }
            _seed.seed_ingredient(urls["ingredient"])
            jwks_url = f"http://127.0.0.1:{jwks.server_address[1]}/jwks.json"
            env = environments(
                args=args, tmp=tmp, release=release, urls=urls, jwks_url=jwks_url, run=run
            )
            mixes = {
                s: [m for m in token_mixes(tokens[s].__getitem__) if m.name in MIXES]
                for s in ROUTES
            }
            layout = (
                f"{len(CASES)} servers of one uvicorn worker each (CPU 0) taking turns, "
                f"wrk -c{args.connections} (CPU 1), {args.rounds} rounds"
                if args.method == "interleaved"
                else f"one uvicorn worker (CPU 0), wrk -c{args.connections} (CPU 1), "
                f"{args.rounds} rounds of one server after another"
            )
            print(
                f"seeded in {time.monotonic() - started:.0f} s; {layout}; {args.seconds} s "
                f"windows, mixes {', '.join(MIXES)}; 0.4.0 from {RELEASE_COMMIT[:12]}; "
                f"uvicorn on {server_stack(args)}",
                flush=True,
            )
            run_service = (
                bench_service_interleaved if args.method == "interleaved" else bench_service
            )
            for service in services:
                run_service(Setup(service, args, mixes[service], env, tmp))
        finally:
            jwks.shutdown()
            for service, url in urls.items():
                if url:
                    _seed.drop_database(args.postgres_url, names[service])
            deleted = cleanup(args.redis_url, run)
    print(f"\n{deleted} Redis keys of this run deleted; {time.monotonic() - started:.0f} s")
    return 0


def peak_connections() -> int:
    """The most PostgreSQL connections one service's servers hold at once: every server's
    idle pool, and the loaded one's overflow on top."""
    pools = [POOLS[case] for case in CASES]
    return sum(size for size, _ in pools) + max(overflow for _, overflow in pools)


def connection_room(postgres_url: str) -> int:
    """How many more connections the PostgreSQL server accepts now."""
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        ).fetchone()
    assert row is not None
    return int(row[0])


def server_stack(args: argparse.Namespace) -> str:
    """The event loop and HTTP parser the servers run, ``auto`` resolved as uvicorn does."""
    loop = args.loop if args.loop != "auto" else (
        "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    )  # fmt: skip
    http = args.http if args.http != "auto" else (
        "httptools" if importlib.util.find_spec("httptools") else "h11"
    )  # fmt: skip
    return f"{loop} and {http}"


def cleanup(redis_url: str, run: str) -> int:
    """Delete every Redis key carrying this run's id (the clinics', users' and the
    template's keys); how many there were."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"*{run}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
