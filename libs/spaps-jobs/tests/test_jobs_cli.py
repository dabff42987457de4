"""``python -m spaps_jobs``: relay and dead-letter commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from spaps_jobs import DeadLetterStore, Outbox
from spaps_jobs._cli import main
from spaps_jobs.testing import wait_for
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session

TESTS_DIR = Path(__file__).parent


@pytest.fixture
def dead_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dead.db'}"
    store = DeadLetterStore(create_engine(url))
    store.add(
        task_name="billing.charge",
        task_id="t-1",
        args=["o-1"],
        kwargs={"retry": True},
        error="TimeoutError('gateway')",
        traceback="Traceback ...",
        attempts=4,
        headers={"spaps_request_id": "req-1"},
    )
    return url


def test_list_and_show(dead_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dead-letters", "list", "--url", dead_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id\ttask\tattempts\tfailed_at\terror"
    assert lines[1].startswith("1\tbilling.charge\t4\t")
    assert lines[1].endswith("TimeoutError('gateway')")
    assert main(["dead-letters", "show", "1", "--url", dead_url]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["kwargs"] == {"retry": True}
    assert shown["headers"] == {"spaps_request_id": "req-1"}


def test_errors_are_reported(dead_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dead-letters", "show", "99", "--url", dead_url]) == 1
    assert "no dead letter with id 99" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="needs an id"):
        main(["dead-letters", "show", "--url", dead_url])
    with pytest.raises(SystemExit, match="needs --app"):
        main(["dead-letters", "requeue", "1", "--url", dead_url])
    with pytest.raises(SystemExit, match="module:attribute"):
        main(["dead-letters", "requeue", "1", "--url", dead_url, "--app", "nocolon"])


@pytest.mark.slow
def test_relay_command_runs_until_sigterm(tmp_path: Path) -> None:
    metadata = MetaData()
    outbox = Outbox(metadata)
    db_url = f"sqlite:///{tmp_path / 'outbox.db'}"
    engine = create_engine(db_url)
    metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        ids = [outbox.add(session, "t", {"i": i}) for i in range(25)]
    sink = tmp_path / "sink.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "SPAPS_TEST_OUTBOX_DB": db_url,
        "SPAPS_TEST_SINK": str(sink),
    }
    factory = "spaps_jobs_relay_app:make_file_relay"
    proc = subprocess.Popen(
        [sys.executable, "-m", "spaps_jobs", "relay", "--factory", factory],
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(lambda: sink.exists() and len(sink.read_text().split()) == 25, timeout=30)
        with Session(engine) as session, session.begin():
            ids.append(outbox.add(session, "t", {"late": True}))
        wait_for(lambda: len(sink.read_text().split()) == 26, timeout=30, what="a late event")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert sink.read_text().split() == ids
    engine.dispose()


def test_relay_factory_must_return_a_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    with pytest.raises(SystemExit, match="not a Relay"):
        main(["relay", "--factory", "spaps_jobs_relay_app:not_a_relay"])
