"""The ``htma`` commands that run the service's processes: ``serve`` (the API), ``worker``
(Celery, the outbox relay, beat embedded unless told not to), ``beat`` alone, and
``run-scheduled`` (one beat entry now, in this process); :mod:`htma.cli` adds them."""

from __future__ import annotations

import sys

import click
import prometheus_client
import uvicorn
from spaps_jobs import ScheduleNotFoundError, run_scheduled
from spaps_ops.db import CommandErrors

from htma.app import create_app
from htma.cli_support import settings_for
from htma.errors import HtmaError
from htma.settings import Settings
from htma.worker import create_worker


@click.command("run-scheduled")
@click.argument("name")
def run_scheduled_command(name: str) -> None:
    """Run the beat schedule's entry NAME now, in this process (e.g. the webhook sweeper
    after an outage): the same task beat would send, without the broker."""
    settings = settings_for()
    with CommandErrors(ValueError):
        worker = create_worker(settings)
    try:
        with CommandErrors(HtmaError, ValueError):
            try:
                result = run_scheduled(worker.celery, name)
            except ScheduleNotFoundError as exc:  # a KeyError: its message, unquoted
                raise SystemExit(f"error: {exc.args[0] if exc.args else exc}") from None
    finally:
        worker.runtime.close()
    click.echo(f"ran {name}: {result!r}")


@click.command("worker")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option(
    "--beat/--no-beat",
    default=True,
    show_default=True,
    help="also run the beat scheduler in this process (exactly one beat per deployment:"
    " run scaled-out workers with --no-beat and one `htma beat`)",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="serve the worker's Prometheus metrics on this port (default: the setting"
    " HTMA_WORKER_METRICS_PORT; 0: any free port)",
)
def worker_command(loglevel: str, beat: bool, metrics_port: int | None) -> None:
    """Run the Celery worker (results, erasures, webhook deliveries, retention purges)
    and the outbox relay."""
    settings = settings_for()
    with CommandErrors(ValueError):
        worker = create_worker(settings)
    port = metrics_port if metrics_port is not None else settings.worker_metrics_port
    if port is not None:
        # The global registry: where spaps-jobs counts tasks, relay publishes and lag.
        server, _ = prometheus_client.start_http_server(port)
        click.echo(f"worker metrics on port {server.server_port} at /metrics")
        sys.stdout.flush()
    options = [f"--loglevel={loglevel}", "--without-gossip", "--without-mingle", "--queues=htma"]
    if beat:
        options = ["--beat", f"--schedule={_schedule(settings)}", *options]
    thread, stop = worker.start_relay()
    try:
        worker.celery.worker_main(["worker", "--pool=solo", *options])
    finally:
        stop.set()
        thread.join(timeout=5)
        worker.runtime.close()


@click.command("beat")
@click.option("--loglevel", default="INFO", show_default=True)
def beat_command(loglevel: str) -> None:
    """Run the beat scheduler alone (the webhook sweeper, the retention purges); exactly
    one per deployment."""
    settings = settings_for()
    with CommandErrors(ValueError):
        worker = create_worker(settings)
    try:
        worker.celery.start(["beat", f"--schedule={_schedule(settings)}", f"--loglevel={loglevel}"])
    finally:
        worker.runtime.close()


def _schedule(settings: Settings) -> str:
    """Beat's schedule file (``HTMA_BEAT_SCHEDULE_PATH``), its folder created."""
    path = settings.beat_schedule_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Run the API with uvicorn (one process; use a process manager in production).

    Proxy headers (``X-Forwarded-For``) are believed only from ``HTMA_TRUSTED_PROXIES``.
    """
    from spaps_ops import server_options  # noqa: PLC0415  # this command's own import

    settings = settings_for()
    uvicorn.run(create_app(settings), host=host, port=port, **server_options(settings))


PROCESS_COMMANDS = (run_scheduled_command, worker_command, beat_command, serve_command)
