"""Interleaved windows: every case's server stays up, and the cases take short turns.

This machine's speed drifts by tens of percent within minutes, so cases measured minutes
apart can differ by more than the stacks do. Here every case's server runs for the whole
run (all pinned to CPU 0, primed once), and each round gives each case one window of
``seconds`` in turn, the order rotating from round to round, with the core to itself
(``wrk`` on CPU 1): the windows compared within a round lie seconds apart, so a drift
slows them nearly alike, while each server still runs at its full rate (time-based work
such as a background refresh weighs on a request as it does in production). A server
waiting for its turn is idle, and its CPU is counted only during its own windows.
"""

from __future__ import annotations

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


def interleaved(
    servers: list[tuple[str, str, int]],
    path: str,
    mix: TokenMix,
    *,
    seconds: int,
    connections: int,
    rounds: int,
    warmup: int,
) -> dict[str, list[Window]]:
    """A warm-up window of ``warmup`` seconds per server, then ``rounds`` rounds of one
    ``seconds`` window per server, in turn; ``servers`` are (case, base URL, pid). Per
    case, its measured windows in round order."""
    windows: dict[str, list[Window]] = {case: [] for case, _, _ in servers}
    with mix_files(mix) as files:
        for _, base, _ in servers:  # the caches reach the mix's steady state
            wrk(base + path, warmup, connections, files, 0)
        for round_ in range(rounds):
            offset = MEASURE_OFFSET + round_ * ROUND_STRIDE
            turn = servers[round_ % len(servers) :] + servers[: round_ % len(servers)]
            for case, base, pid in turn:
                before, cpu_before = cache_counts(base), cpu_seconds(pid)
                rps, total, non_2xx = wrk(base + path, seconds, connections, files, offset)
                cpu = cpu_seconds(pid) - cpu_before
                windows[case].append(
                    Window(rps, total / cpu if cpu else float("nan"),
                           hit_rate(before, cache_counts(base)), non_2xx, total)
                )  # fmt: skip
    return windows
