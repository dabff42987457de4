"""Test helpers: run a real Celery worker process and always kill it.

Example (a pytest fixture)::

    @pytest.fixture
    def worker(tmp_path):
        with run_worker("myapp.tasks", queues=["q1"], cwd=tmp_path) as proc:
            yield proc
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["WorkerProcess", "run_worker", "wait_for"]


def wait_for(
    predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = ""
) -> None:
    """Poll ``predicate()`` until it is truthy; raise ``TimeoutError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")


class WorkerProcess:
    """A ``celery -A <app> worker`` subprocess in its own process group.

    Args:
        app: The ``-A`` argument (``module`` or ``module:attribute``).
        queues: Queues to consume (``-Q``); default: the app's default queue.
        pool: Worker pool (``solo`` starts fastest; ``prefork`` with concurrency 1 also
            exercises child-process loss).
        concurrency: Processes/threads of the pool.
        cwd: Working directory (the app module must be importable from it).
        env: Extra environment variables.
        log_path: Where the worker's output goes (default: a temporary file).
    """

    def __init__(
        self,
        app: str,
        *,
        queues: Sequence[str] = (),
        pool: str = "solo",
        concurrency: int = 1,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.app = app
        self.queues = list(queues)
        self.pool = pool
        self.concurrency = concurrency
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.env = dict(env or {})
        self.owns_log = log_path is None
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="celery-worker-", suffix=".log")
            os.close(handle)
            log_path = name
        self.log_path = Path(log_path)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout: float = 30.0) -> WorkerProcess:
        """Start the worker and wait until it reports ready."""
        cmd = [sys.executable, "-m", "celery", "-A", self.app, "worker", "--loglevel", "INFO"]
        cmd += ["--pool", self.pool, "--concurrency", str(self.concurrency), "--without-gossip"]
        cmd += ["--without-mingle", "--without-heartbeat"]
        if self.queues:
            cmd += ["-Q", ",".join(self.queues)]
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.cwd), env.get("PYTHONPATH")]))
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 -- fixed argv, no shell
                cmd,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(
                lambda: b" ready." in self.log_path.read_bytes()[offset:] or not self.alive,
                timeout=ready_timeout,
                what="the worker to be ready",
            )
        except TimeoutError:
            self.kill()
            raise
        if not self.alive:
            raise RuntimeError(f"worker exited at start-up:\n{self.log()}")
        return self

    @property
    def alive(self) -> bool:
        """Whether the worker process is running."""
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Everything the worker wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (the whole process group)."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        # A SIGKILLed process always exits; the timeout only bounds a stuck reap.
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self, *, timeout: float = 10.0) -> None:
        """Warm shutdown (SIGTERM); SIGKILL if it does not exit within ``timeout``."""
        if self.process is None or not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def run_worker(
    app: str,
    *,
    queues: Sequence[str] = (),
    pool: str = "solo",
    concurrency: int = 1,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[WorkerProcess]:
    """Start a :class:`WorkerProcess`, yield it, and kill it whatever happens.

    A temporary log file (when ``log_path`` is not given) is removed afterwards.
    """
    worker = WorkerProcess(
        app, queues=queues, pool=pool, concurrency=concurrency, cwd=cwd, env=env, log_path=log_path
    )
    try:
        yield worker.start(ready_timeout=ready_timeout)
    finally:
        worker.kill()
        if worker.owns_log:
            worker.log_path.unlink(missing_ok=True)
