"""Throughput of the spaps-ops middleware stack against bare FastAPI and a template stack.

One uvicorn worker per case, all started first and pinned to CPU 0 (only the loaded one
is busy), wrk pinned to CPU 1, GET of a tiny JSON route. Each of ``--rounds`` rounds
gives every case one ``--duration`` burst of load, with bare and spaps back to back in
alternating order, so a drift in the machine's speed hits both alike. Cases:

* ``bare``: FastAPI with the route only;
* ``bare_headers``: reference only -- bare plus a no-logic middleware writing the same
  seven response headers the spaps case sends (what the server's header writing costs);
* ``template``: the usual template stack -- asgi-correlation-id,
  prometheus-fastapi-instrumentator and a ``BaseHTTPMiddleware`` security-headers
  middleware;
* ``spaps``: ``spaps_ops.create_app`` -- request id, access log (JSON lines through
  structlog, written to /dev/null so no terminal is the bottleneck), metrics, security
  headers, strict CORS (one allowed origin), maintenance switch and problem handlers.

For each case it prints wrk's requests/s and the requests served per CPU-second of the
server process (from ``/proc/<pid>/stat``: when other work shares the machine the server
does not get its core to itself, and CPU-normalised throughput is what stays
comparable), then the ratios spaps/bare (target >= 0.80) and spaps/template (target
>= 2.0), of the best figures and as the median over rounds of the ratios within a
round. uvicorn uses httptools when it is installed (as with ``uvicorn[standard]`` in
production), else h11, whose pure-Python header validation makes every response header
several times dearer; the parser used is printed.

Then (unless ``--no-instructions``) it counts, under valgrind's callgrind, the
instructions the server process executes per request under the same wrk load (8
connections): a machine-independent figure that other load on the machine does not
move, printed as the same ratios (requests per instruction). Wall-clock bursts on a
shared machine can differ by a tenth even back to back; the instruction ratio is the
steady cross-check.

``--instructions-only`` skips the wall-clock rounds and only counts instructions, and
``--cases bare,spaps`` limits either part to some cases (the ratios need ``bare`` and
``spaps``): ``--instructions-only --cases bare,spaps`` is the quick, load-independent check
of spaps/bare (about a minute).

Each server gets its listening socket from this process (bound to port 0, handed over
as a file descriptor), so no port is ever freed and reused.

Usage: ``python bench/ops/bench_stack.py [--duration 3] [--rounds 8] [--http auto|h11]
[--no-instructions | --instructions-only] [--cases bare,spaps]``.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator
from spaps_ops import OpsSettings, create_app
from starlette.middleware.base import BaseHTTPMiddleware

CASES = ("bare", "bare_headers", "template", "spaps")
#: The order of one round: the two cases of the main ratio next to each other.
ORDER = ("template", "bare", "spaps", "bare_headers")
WRK = ["taskset", "-c", "1", "wrk", "-t1"]
#: The response headers the spaps case adds (security headers, request id, Vary: Origin).
SPAPS_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-request-id", b"0123456789abcdef0123456789abcdef"),
    (b"vary", b"Origin"),
]


class StaticHeaders:
    """Reference only: add fixed headers and do nothing else (the server's own cost of
    writing the headers the spaps stack adds)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SPAPS_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_app(case: str) -> Any:
    """The ASGI app of one case."""
    if case == "bare":
        app = FastAPI()
    elif case == "bare_headers":
        app = FastAPI()
        app.add_middleware(StaticHeaders)
    elif case == "template":
        app = FastAPI()

        async def security_headers(request: Any, call_next: Any) -> Any:
            response = await call_next(request)
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Content-Security-Policy"] = "default-src 'none'"
            return response

        app.add_middleware(BaseHTTPMiddleware, dispatch=security_headers)
        app.add_middleware(CorrelationIdMiddleware)
        Instrumentator().instrument(app).expose(app)
    elif case == "spaps":
        settings = OpsSettings(cors_origins=["https://app.example.com"], _env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init-only option
        app = create_app(settings, log_stream=open(os.devnull, "w"))  # noqa: SIM115  # lives as long as the server
    else:
        raise SystemExit(f"unknown case {case!r}")

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bound_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port, not yet listening: the server it is
    handed to listens on it, so nothing answers before the server does."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def server_command(sock: socket.socket, case: str, http: str) -> list[str]:
    """The arguments that make this script serve ``case`` on ``sock`` (passed as a fd)."""
    return [
        sys.executable, __file__, "--serve", case, "--fd", str(sock.fileno()), "--http", http,
    ]  # fmt: skip


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Poll ``url`` until the server answers it; fail if it exits or the deadline passes."""
    host, port = url.split("/")[2].split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server for {url} exited with {server.returncode}")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)  # not listening yet
        finally:
            connection.close()
    raise SystemExit(f"server for {url} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(case: str, http: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server of ``case`` on CPU 0, warmed up; return it and its URL."""
    with bound_socket() as sock:
        server = subprocess.Popen(
            ["taskset", "-c", "0", *server_command(sock, case, http)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(sock.fileno(),),
        )
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/ping"
    wait_ready(url, server)
    subprocess.run([*WRK, "-c8", "-d2s", url], capture_output=True, timeout=30, check=True)
    return server, url


def load(case: str, server: subprocess.Popen[bytes], url: str, args: Any) -> tuple[float, float]:
    """One burst of wrk load: requests/s, and requests per server CPU-second."""
    cpu_before = cpu_seconds(server.pid)
    out = subprocess.run(
        [*WRK, f"-c{args.connections}", f"-d{args.duration}s", url],
        capture_output=True,
        text=True,
        timeout=args.duration + 30,
        check=True,
    ).stdout
    cpu = cpu_seconds(server.pid) - cpu_before
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rate or not total or "Non-2xx" in out:
        raise SystemExit(f"{case}: unexpected wrk output:\n{out}")
    return float(rate.group(1)), int(total.group(1)) / cpu


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def instructions_per_request(case: str, http: str, seconds: int = 8) -> float:
    """Instructions the server of ``case`` executes per request, counted by callgrind
    from after a warm-up to the end of a ``seconds`` wrk run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        with bound_socket() as sock:
            server = subprocess.Popen(
                [
                    "valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={out}", *server_command(sock, case, http),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(sock.fileno(),),
            )  # fmt: skip
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/ping"
        try:
            wait_ready(url, server, timeout=120)
            wrk = ["wrk", "-t1", "-c8", "--timeout", "10s"]
            subprocess.run([*wrk, "-d3s", url], capture_output=True, timeout=60, check=True)
            control(server.pid, "-i", "on")
            run = subprocess.run(
                [*wrk, f"-d{seconds}s", url], capture_output=True, text=True,
                timeout=seconds + 60, check=True,
            )  # fmt: skip
            control(server.pid, "-i", "off")
            control(server.pid, "-d")
        finally:
            server.terminate()
            server.wait(timeout=60)
        total = re.search(r"(\d+) requests in", run.stdout)
        if not total or "Non-2xx" in run.stdout:
            raise SystemExit(f"{case}: unexpected wrk output:\n{run.stdout}")
        # The explicit dump holds the measured window; the dump at exit holds what came after.
        dumps = [p for p in Path(tmp).iterdir() if p.name != out.name]
        counted = sum(
            int(m.group(1))
            for dump in dumps
            if (m := re.search(r"^totals: (\d+)", dump.read_text(), re.MULTILINE))
        )
        if not dumps or not counted:
            raise SystemExit(f"{case}: callgrind wrote no counts")
        return counted / int(total.group(1))


def control(pid: int, *args: str) -> None:
    """Tell the callgrind of process ``pid`` to switch counting or dump its counts."""
    subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, check=True)


def print_instructions(http: str, cases: tuple[str, ...]) -> None:
    """Instructions per request of ``cases``, and the ratios of their inverses."""
    if not all(shutil.which(tool) for tool in ("valgrind", "callgrind_control")):
        print("\ninstructions not counted: valgrind is not installed (apt-get install valgrind)")
        return
    header = f"instructions per request (callgrind, server process, wrk -c8, http={http}):"
    print(f"\n{header}", flush=True)
    counts = {}
    for case in cases:
        counts[case] = instructions_per_request(case, http)
        print(f"{case:>12}: {counts[case]:10.0f} instructions/request", flush=True)
    print_ratios("per instruction", {case: 1 / count for case, count in counts.items()})


def http_parser(choice: str) -> str:
    """The uvicorn HTTP implementation ``auto`` resolves to here."""
    if choice != "auto":
        return choice
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def serve(case: str, fd: int, http: str) -> None:
    """Serve ``case`` on the bound socket ``fd`` handed over by the parent."""
    config = uvicorn.Config(
        build_app(case),
        http=http,  # validated by argparse choices
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


def parse_cases(text: str) -> tuple[str, ...]:
    """``--cases``: a comma-separated subset of CASES, kept in CASES order."""
    chosen = {name.strip() for name in text.split(",") if name.strip()}
    unknown = chosen - set(CASES)
    if unknown or not {"bare", "spaps"} <= chosen:
        raise argparse.ArgumentTypeError(
            f"cases come from {', '.join(CASES)} and include bare and spaps, got {text!r}"
        )
    return tuple(case for case in CASES if case in chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per burst of load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds")
    parser.add_argument("--http", choices=("auto", "httptools", "h11"), default="auto")
    counting = parser.add_mutually_exclusive_group()
    counting.add_argument(
        "--no-instructions",
        dest="instructions",
        action="store_false",
        help="skip counting instructions per request (needs valgrind, about 2 minutes)",
    )
    counting.add_argument(
        "--instructions-only",
        action="store_true",
        help="only count instructions per request (no wall-clock rounds)",
    )
    parser.add_argument(
        "--cases",
        type=parse_cases,
        default=CASES,
        help=f"comma-separated cases to run (default {','.join(CASES)}; bare and spaps needed)",
    )
    parser.add_argument("--serve", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.fd, args.http)
        return 0
    http = http_parser(args.http)
    if args.instructions_only:
        print_instructions(http, args.cases)
        return 0
    run_rounds(http, args)
    if args.instructions:
        print_instructions(http, args.cases)
    return 0


def run_rounds(http: str, args: Any) -> None:
    """The wall-clock part: ``args.rounds`` rounds of bursts, then the ratios."""
    cases: tuple[str, ...] = args.cases
    print(f"uvicorn http={http}, one worker per case on CPU 0, wrk on CPU 1", flush=True)
    wall = dict.fromkeys(cases, 0.0)
    per_cpu = dict.fromkeys(cases, 0.0)
    rounds: list[dict[str, tuple[float, float]]] = []
    servers = {}
    try:
        for case in cases:
            servers[case] = start_server(case, http)
        for round_ in range(args.rounds):
            rounds.append({})
            # Odd rounds run the cases backwards: spaps and bare always run back to back,
            # in alternating order, so drift in the machine's speed cancels out.
            order = [case for case in ORDER if case in cases]
            for case in order if round_ % 2 == 0 else order[::-1]:
                rps, rpc = load(case, *servers[case], args)
                print(
                    f"round {round_ + 1} {case:>12}: {rps:8.0f} req/s  {rpc:8.0f} req/CPU-s",
                    flush=True,
                )
                rounds[-1][case] = (rps, rpc)
                wall[case] = max(wall[case], rps)
                per_cpu[case] = max(per_cpu[case], rpc)
    finally:
        for server, _ in servers.values():
            stop(server)
    print(
        f"\nbest of {args.rounds} round(s), {args.duration} s each, wrk -c{args.connections}, "
        f"http={http}:"
    )
    for case in cases:
        print(f"{case:>12}: {wall[case]:8.0f} req/s  {per_cpu[case]:8.0f} req/CPU-s")
    for label, figures in (("req/s", wall), ("req/CPU-s", per_cpu)):
        print_ratios(f"best-of {label}", figures)
    # Cases of one round run back to back, so their ratio suffers least from load that
    # drifts between rounds; the median over rounds is the steadier verdict.
    print(f"median over {args.rounds} round(s) of the ratios within each round:")
    for index, label in enumerate(("req/s", "req/CPU-s")):
        medians = {
            pair: statistics.median(r["spaps"][index] / r[pair][index] for r in rounds)
            for pair in cases
            if pair != "spaps"
        }
        print_ratios(f"median {label}", {"spaps": 1.0, **{k: 1 / v for k, v in medians.items()}})


def print_ratios(label: str, figures: dict[str, float]) -> None:
    """spaps/bare and spaps/template against their targets, and spaps/bare_headers (of
    the cases that ran)."""
    parts = []
    for other, target in (("bare", 0.8), ("template", 2.0), ("bare_headers", None)):
        if other not in figures:
            continue
        ratio = figures["spaps"] / figures[other]
        part = f"spaps/{other} = {ratio:.3f}"
        if target is not None:
            part += f" (target >= {target:.2f}, {'met' if ratio >= target else 'MISSED'})"
        parts.append(part)
    print(f"{label:>17}: " + "; ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
