"""Log lines written to an operating-system file are batched per event-loop turn."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
import structlog
from spaps_ops import configure_logging


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[tuple[TextIO, Path]]:
    path = tmp_path / "log.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        yield stream, path
    configure_logging(stream=sys.stderr)  # leave no logger bound to the closed file


def _events(path: Path) -> list[str]:
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


async def _next_turn() -> None:
    """Return once the running loop has run what was already scheduled with
    ``call_soon`` (the batch's write among it): the loop runs its ready callbacks in
    order, and this one is queued after them."""
    loop = asyncio.get_running_loop()
    turn = loop.create_future()
    loop.call_soon(turn.set_result, None)
    await turn


async def test_a_turns_lines_are_written_together_at_the_next_turn(
    log_file: tuple[TextIO, Path],
) -> None:
    stream, path = log_file
    configure_logging(stream=stream)
    log = structlog.get_logger("t")
    for n in range(3):
        log.info(f"line-{n}")
    assert path.read_text() == ""  # still queued: one write at the next turn
    await _next_turn()
    assert _events(path) == ["line-0", "line-1", "line-2"]


def test_lines_logged_without_a_running_loop_are_written_at_once(
    log_file: tuple[TextIO, Path],
) -> None:
    stream, path = log_file
    configure_logging(stream=stream)
    structlog.get_logger("t").info("at-once")
    assert _events(path) == ["at-once"]


def test_batching_can_be_turned_off(log_file: tuple[TextIO, Path]) -> None:
    stream, path = log_file
    configure_logging(stream=stream, batch_writes=False)

    async def log_in_loop() -> str:
        structlog.get_logger("t").info("direct")
        return path.read_text()

    assert "direct" in asyncio.run(log_in_loop())


async def test_lines_from_threads_and_the_loop_are_all_kept_in_order(
    log_file: tuple[TextIO, Path],
) -> None:
    stream, path = log_file
    configure_logging(stream=stream)
    log = structlog.get_logger("t")

    def worker() -> None:
        for n in range(300):
            log.info(f"thread-{n}")

    thread = threading.Thread(target=worker)
    thread.start()
    for n in range(300):
        log.info(f"loop-{n}")
        if n % 7 == 0:
            await _next_turn()  # spread the loop's lines over many turns
    await asyncio.to_thread(thread.join)
    await _next_turn()
    events = _events(path)
    assert [e for e in events if e.startswith("thread-")] == [f"thread-{n}" for n in range(300)]
    assert [e for e in events if e.startswith("loop-")] == [f"loop-{n}" for n in range(300)]


def test_queued_lines_are_written_when_the_process_exits(tmp_path: Path) -> None:
    # The loop stops right after the callback that logs: the turn that would write the
    # queued line never comes, so only the exit hook can save it.
    script = (
        "import asyncio, structlog\n"
        "from spaps_ops import configure_logging\n"
        "configure_logging()\n"
        "loop = asyncio.new_event_loop()\n"
        "def last():\n"
        "    structlog.get_logger('t').info('last-words')\n"
        "    loop.stop()\n"
        "loop.call_soon(last)\n"
        "loop.run_forever()\n"
        "raise SystemExit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3
    assert [json.loads(line)["event"] for line in done.stdout.splitlines()] == ["last-words"]


async def test_access_lines_join_the_batch_in_order_with_other_lines(
    log_file: tuple[TextIO, Path],
) -> None:
    from spaps_ops._logging import InfoLineWriter  # noqa: PLC0415  # private fast path

    stream, path = log_file
    configure_logging(stream=stream)
    writer = InfoLineWriter.for_logger(structlog.get_logger("spaps.access").bind())
    assert writer is not None
    head = writer.encode_fields({"method": "GET", "route": "/a", "status": 200})
    log = structlog.get_logger("t")
    log.info("before")
    assert writer.write_access(head, 1.5, "u1", None)
    log.info("after")
    assert path.read_text() == ""  # the access line is queued with the others
    await _next_turn()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["before", "http_request", "after"]
    assert lines[1]["route"] == "/a"
    assert lines[1]["duration_ms"] == 1.5
    assert lines[1]["user_id"] == "u1"
