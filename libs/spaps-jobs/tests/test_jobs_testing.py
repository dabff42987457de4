"""spaps_jobs.testing: the worker helpers start real processes and always clean up."""

from __future__ import annotations

from pathlib import Path

import pytest
from spaps_jobs.testing import WorkerProcess, run_worker, wait_for


def test_wait_for_times_out_with_what_it_waited_for() -> None:
    with pytest.raises(TimeoutError, match="the moon"):
        wait_for(lambda: False, timeout=0.1, what="the moon")
    wait_for(lambda: True, timeout=0.1)


@pytest.mark.slow
def test_worker_that_cannot_start_is_reported(tmp_path: Path) -> None:
    worker = WorkerProcess("no_such_module_anywhere", cwd=tmp_path, log_path=tmp_path / "w.log")
    with pytest.raises(RuntimeError, match="exited at start-up"):
        worker.start(ready_timeout=30)
    assert not worker.alive


@pytest.mark.slow
def test_run_worker_kills_the_worker_and_removes_its_temporary_log(
    tmp_path: Path, unique_name: str
) -> None:
    db = tmp_path / "broker.db"
    env = {
        "SPAPS_TEST_BROKER": f"sqla+sqlite:///{db}",
        "SPAPS_TEST_QUEUE": unique_name,
    }
    with run_worker(
        "spaps_jobs_worker_app", queues=[unique_name], cwd=Path(__file__).parent, env=env
    ) as worker:
        assert worker.alive
        assert " ready." in worker.log()
        log_path = worker.log_path
    assert not worker.alive
    assert not log_path.exists()
