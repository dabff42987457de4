"""ingredient's catalog search over GraphQL against the same search over REST: same
service process, same data, same callers, one run.

* ``rest``: ``GET /v1/ingredients?q=<word>&limit=20``, a page of search hits;
* ``graphql``: ``POST /graphql`` with ``search(query: <word>, first: 20)`` selecting the
  same fields (code, name, scientific name, food group, source, score, total).

Both go through the whole stack of the service as the workspace holds it (one uvicorn
worker on CPU 0, ``wrk`` on CPU 1, PostgreSQL and Redis): htma-style tokens of 10,000
users drawn uniformly (the verified-token cache's hit rate is printed), the plan limit on
Redis, the search statement. Rounds alternate the two cases; the ratio printed is the
median over rounds of graphql/rest within a round, in requests/s and in requests per
server CPU-second.

Where the difference goes: the µs of server CPU per request of each case, their
difference, and the part of it spent in the GraphQL steps REST does not have, each timed
in this process on the same document: pricing the operation (spaps-ratelimit's
``operation_cost``, every request), and parsing and validating it against the schema,
which the service does only the first time it sees a document (spaps-ops'
``secure_extensions`` keep the verdicts of the last 256). The rest of the difference is
execution: one resolver call per field of every node, and the result map Strawberry
builds before JSON encoding.

Usage: ``python bench/graphql/bench_catalog.py [--seconds 5] [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from pathlib import Path

import httpx
from graphql import build_schema, parse, validate
from ingredient.graphql import sdl
from ingredient.graphql._mount import FIELD_COSTS
from spaps_auth import JsonWebKey
from spaps_ratelimit.strawberry import operation_cost

HERE = Path(__file__).resolve().parent
SERVICES = HERE.parent / "services"
BACKBONE = HERE.parent / "backbone"
sys.path[:0] = [str(SERVICES), str(BACKBONE)]
import _seed  # noqa: E402 -- the services benchmark's seed and load helpers
from _load import USERS, cache_counts, cpu_seconds, free_port, stop, wait_ready  # noqa: E402
from _load import mixes as token_mixes  # noqa: E402
from bench_services import serve_jwks, start_server  # noqa: E402

WORD = "seeds"
PAGE = 20
REST_PATH = f"/v1/ingredients?q={WORD}&limit={PAGE}"
QUERY = (
    "query Search($q: String!, $first: Int!) { search(query: $q, first: $first) { "
    "totalCount edges { score node { code name scientificName foodGroup source } } } }"
)
CASES = ("rest", "graphql")

LUA = """\
local tokens, order, i, body = {}, {}, 0, nil
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = "Bearer " .. line end
  for line in io.lines(args[2]) do order[#order + 1] = tonumber(line) end
  i = tonumber(args[3]) or 0
  if args[4] ~= nil then
    local file = io.open(args[4]); body = file:read("*a"); file:close()
  end
end
function request()
  i = i % #order + 1
  local headers = {["Authorization"] = tokens[order[i]]}
  if body == nil then return wrk.format("GET", nil, headers) end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, headers, body)
end
"""


def wrk(url: str, seconds: int, connections: int, files: list[Path], offset: int) -> int:
    """Run wrk on CPU 1 from ``offset`` in the token order; the requests answered 2xx."""
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
         "-s", str(files[0]), url, "--", str(files[1]), str(files[2]), str(offset),
         *[str(f) for f in files[3:]]],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    total = int(out.split(" requests in ")[0].split()[-1])
    if "Non-2xx" in out:
        raise RuntimeError(f"some answers were not 2xx:\n{out}")
    return total


def check_answers(base: str, token: str) -> None:
    """Both cases answer the same hits before anything is measured."""
    headers = {"Authorization": f"Bearer {token}"}
    rest = httpx.get(base + REST_PATH, headers=headers, timeout=30)
    graphql = httpx.post(
        base + "/graphql",
        json={"query": QUERY, "variables": {"q": WORD, "first": PAGE}},
        headers=headers,
        timeout=30,
    )
    rest.raise_for_status()
    graphql.raise_for_status()
    search = graphql.json()["data"]["search"]
    codes = [edge["node"]["code"] for edge in search["edges"]]
    if codes != [item["code"] for item in rest.json()["items"]] or len(codes) != PAGE:
        raise RuntimeError(f"REST and GraphQL disagree: {rest.text[:300]} / {graphql.text[:300]}")
    if search["totalCount"] != rest.json()["total"]:
        raise RuntimeError("REST and GraphQL totals differ")


def graphql_steps() -> dict[str, float]:
    """µs per request of the steps only GraphQL has, timed here on the same document."""
    schema = build_schema(sdl())
    document = parse(QUERY)
    variables = {"q": WORD, "first": PAGE}
    steps = {
        "parse": lambda: parse(QUERY),
        "validate": lambda: validate(schema, document),
        "price (operation_cost)": lambda: operation_cost(
            document,
            variables=variables,
            schema=schema,
            field_costs=FIELD_COSTS,
            default_field_cost=0,
        ),
    }
    figures = {}
    for name, step in steps.items():
        runs = timeit.Timer(step).repeat(repeat=5, number=500)
        figures[name] = min(runs) / 500 * 1e6
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load per window")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--quick", action="store_true", help="3 s windows, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3, 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    run = uuid.uuid4().hex[:8]
    name = f"bench_graphql_{run}"
    key = JsonWebKey.generate("EdDSA", kid="bench-htma")
    jwks = serve_jwks(key)
    url = _seed.create_database(args.postgres_url, name)
    results: dict[str, list[tuple[float, float]]] = {case: [] for case in CASES}
    hits: list[float] = []
    try:
        _seed.seed_ingredient(url)
        tokens = _seed.htma_style_tokens(key, USERS, run)
        mix = next(m for m in token_mixes(tokens.__getitem__) if m.name == "uniform")
        env = {
            **os.environ,
            "PYTHONPATH": str(BACKBONE),
            "INGREDIENT_DATABASE_URL": url,
            "INGREDIENT_REDIS_URL": args.redis_url,
            "INGREDIENT_HTMA_JWKS_URL": f"http://127.0.0.1:{jwks.server_address[1]}/jwks.json",
            "INGREDIENT_PLANS": json.dumps({"free": f"{10**9}/hour", "token": f"{10**9}/hour"}),
        }
        with tempfile.TemporaryDirectory(prefix="spaps-bench-graphql-") as tmp_name:
            tmp = Path(tmp_name)
            port = free_port()
            server = start_server("_apps:ingredient", port, env, tmp)
            base = f"http://127.0.0.1:{port}"
            try:
                wait_ready(port, server)
                check_answers(base, tokens[0])
                files = [tmp / "mix.lua", tmp / "tokens", tmp / "order"]
                files[0].write_text(LUA)
                files[1].write_text("\n".join(mix.tokens) + "\n")
                files[2].write_text("\n".join(str(i + 1) for i in mix.order) + "\n")
                body = tmp / "body.json"
                body.write_text(
                    json.dumps({"query": QUERY, "variables": {"q": WORD, "first": PAGE}})
                )
                targets = {
                    "rest": (base + REST_PATH, files),
                    "graphql": (base + "/graphql", [*files, body]),
                }
                offset = 0
                for case in CASES:  # warm-up: both paths, the cache filled
                    wrk(targets[case][0], 3, args.connections, targets[case][1], offset)
                    offset += 20_000
                print(
                    f"ingredient, one uvicorn worker (CPU 0), wrk -c{args.connections} "
                    f"(CPU 1), {args.seconds} s windows, {args.rounds} rounds, "
                    f"{USERS} users' tokens drawn uniformly; search '{WORD}', {PAGE} hits",
                    flush=True,
                )
                for round_ in range(args.rounds):
                    for case in CASES if round_ % 2 == 0 else CASES[::-1]:
                        before_cache = cache_counts(base)
                        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
                        done = wrk(
                            targets[case][0],
                            args.seconds,
                            args.connections,
                            targets[case][1],
                            offset,
                        )
                        elapsed, cpu = time.monotonic() - t0, cpu_seconds(server.pid) - cpu0
                        after_cache = cache_counts(base)
                        offset += done
                        if before_cache and after_cache:
                            h = after_cache[0] - before_cache[0]
                            m = after_cache[1] - before_cache[1]
                            hits.append(h / (h + m) if h + m else 0.0)
                        results[case].append((done / elapsed, done / cpu))
                        print(
                            f"  round {round_ + 1} {case:>7}: {done / elapsed:7.0f} req/s  "
                            f"{done / cpu:7.0f} req/CPU-s  {cpu / done * 1e6:6.0f} µs CPU/req",
                            flush=True,
                        )
            finally:
                stop(server)
    finally:
        jwks.shutdown()
        _seed.drop_database(args.postgres_url, name)
    report(results, hits)
    return 0


def report(results: dict[str, list[tuple[float, float]]], hits: list[float]) -> None:
    """Medians, the ratio graphql/rest, and where the CPU difference goes."""
    print("\nmedians over rounds")
    cpu_us = {}
    for case in CASES:
        rps = statistics.median(r for r, _ in results[case])
        per_cpu = statistics.median(c for _, c in results[case])
        cpu_us[case] = 1e6 / per_cpu
        print(
            f"  {case:>7}: {rps:7.0f} req/s  {per_cpu:7.0f} req/CPU-s  "
            f"{cpu_us[case]:6.0f} µs CPU/req"
        )
    pairs = list(zip(results["graphql"], results["rest"], strict=True))
    hit_rate = f"{statistics.median(hits):.0%}" if hits else "-"
    print(
        f"ratio graphql/rest: {statistics.median(g[0] / r[0] for g, r in pairs):.2f}x req/s; "
        f"{statistics.median(g[1] / r[1] for g, r in pairs):.2f}x req/CPU-s "
        f"(verified-token cache hit rate {hit_rate})"
    )
    difference = cpu_us["graphql"] - cpu_us["rest"]
    steps = graphql_steps()
    price = steps.pop("price (operation_cost)")
    print(f"\nwhere the difference goes: {difference:+.0f} µs CPU per request")
    print(f"  {price:7.0f} µs  pricing the operation (operation_cost), every request")
    print(f"  {difference - price:7.0f} µs  execution: resolvers, result map, the rest")
    print(
        "  the first time a document is seen only (the service keeps the last 256 parsed "
        "and validated): " + ", ".join(f"{name} {micros:.0f} µs" for name, micros in steps.items())
    )


if __name__ == "__main__":
    sys.exit(main())
