"""Side-by-side windows: every case's server under load at the same moment.

This machine's speed drifts by tens of percent within minutes, so cases measured one
after another can differ by more than the stacks do. Here every case's server runs for
the whole run, all pinned to CPU 0, and each window loads all of them at once (one
``wrk`` per server, pinned to CPU 1, sharing the connections): a drift then slows every
case alike, and the ratio of their CPU µs per request within a window is the stacks'
own. Each server's requests per CPU-second come from its own CPU time; its requests/s
is its share of the shared core.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from _load import (
    MEASURE_OFFSET,
    TokenMix,
    Window,
    cache_counts,
    cpu_seconds,
    hit_rate,
    mix_files,
    wrk,
)

#: Where each measured window starts in the mix's order (windows never overlap).
ROUND_STRIDE = 10_000


def side_by_side(
    servers: list[tuple[str, str, int]],
    path: str,
    mix: TokenMix,
    *,
    seconds: int,
    connections: int,
    rounds: int,
    warmup: int,
) -> dict[str, list[Window]]:
    """A warm-up window of ``warmup`` seconds, then ``rounds`` measured windows of ``mix``
    on every server at once; ``servers`` are (case, base URL, pid). Per case, its
    measured windows in order."""
    windows: dict[str, list[Window]] = {case: [] for case, _, _ in servers}
    each = max(1, connections // len(servers))
    with mix_files(mix) as files:
        for round_ in range(rounds + 1):
            offset = 0 if round_ == 0 else MEASURE_OFFSET + (round_ - 1) * ROUND_STRIDE
            length = warmup if round_ == 0 else seconds
            before = {case: (cache_counts(base), cpu_seconds(pid)) for case, base, pid in servers}
            with ThreadPoolExecutor(len(servers)) as pool:
                running = {
                    case: pool.submit(wrk, base + path, length, each, files, offset)
                    for case, base, _ in servers
                }
                results = {case: future.result() for case, future in running.items()}
            if round_ == 0:
                continue  # the warm-up: caches reach the mix's steady state
            for case, base, pid in servers:
                cpu = cpu_seconds(pid) - before[case][1]
                rps, total, non_2xx = results[case]
                windows[case].append(
                    Window(rps, total / cpu if cpu else float("nan"),
                           hit_rate(before[case][0], cache_counts(base)), non_2xx, total)
                )  # fmt: skip
    return windows
