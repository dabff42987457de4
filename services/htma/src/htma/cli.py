"""The ``htma`` command: migrations, admin accounts, key rotation, server.

Every failure prints one line ``error: ...`` on stderr and exits non-zero:
1 for a failed operation, 2 for bad usage (click's convention).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
import prometheus_client
import uvicorn
from spaps_auth import SpapsAuthError, TotpManager
from spaps_ops.db import CommandErrors, open_engine
from spaps_tenancy import bypass

from htma.app import create_app
from htma.clinics.models import Clinic
from htma.clinics.roles import Role
from htma.db import create_sessionmaker
from htma.errors import CommandError, HtmaError
from htma.identity.keystore import SigningKeyStore
from htma.identity.service import check_clinic_id, create_user
from htma.identity.stack import build_auth
from htma.messaging.cipher import generate_key
from htma.messaging.service import rotate_messages
from htma.migrate import MIGRATIONS
from htma.settings import Settings
from htma.worker import create_worker

T = TypeVar("T")


def _settings(database_url: str | None = None) -> Settings:
    with CommandErrors():
        return Settings(database_url=database_url) if database_url else Settings()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    with CommandErrors(HtmaError, SpapsAuthError, ValueError):
        return asyncio.run(coroutine)


database_url_option = click.option(
    "--database-url",
    envvar="HTMA_DATABASE_URL",
    help="SQLAlchemy URL (default: HTMA_DATABASE_URL or a SQLite file under .data/)",
)


@click.group()
def main() -> None:
    """HTMA lab service."""


@main.command("migrate")
@database_url_option
@click.option("--revision", default="head", show_default=True)
def migrate_command(database_url: str | None, revision: str) -> None:
    """Upgrade the database schema."""
    _run(MIGRATIONS.upgrade(_settings(database_url).database_url, revision))
    click.echo(f"database at revision {revision}")


@main.command("downgrade")
@database_url_option
@click.option("--revision", default="base", show_default=True)
def downgrade_command(database_url: str | None, revision: str) -> None:
    """Downgrade the database schema (default: drop everything)."""
    _run(MIGRATIONS.downgrade(_settings(database_url).database_url, revision))
    click.echo(f"database at revision {revision}")


@main.command("create-admin")
@database_url_option
@click.option("--clinic", "clinic_id", required=True, help="clinic id (slug); created if new")
@click.option("--clinic-name", default=None, help="name of a new clinic")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Lab admin", show_default=True)
@click.password_option(envvar="HTMA_ADMIN_PASSWORD", help="or HTMA_ADMIN_PASSWORD")
def create_admin(  # noqa: PLR0917 -- click passes one argument per option
    database_url: str | None,
    clinic_id: str,
    clinic_name: str | None,
    email: str,
    display_name: str,
    password: str,
) -> None:
    """Create a lab admin (and the clinic when it does not exist)."""
    settings = _settings(database_url)
    with CommandErrors(ValueError):
        check_clinic_id(clinic_id)

    async def work() -> str:
        if not (await MIGRATIONS.status(settings.database_url)).up_to_date:
            raise CommandError("the database schema is not up to date: run `htma migrate` first")
        async with open_engine(settings.database_url) as engine:
            auth = build_auth(settings, engine)
            async with create_sessionmaker(engine)() as session:
                if await session.get(Clinic, clinic_id) is None:
                    session.add(Clinic(id=clinic_id, name=clinic_name or clinic_id))
                    await session.flush()
                user = await create_user(
                    session, auth, clinic_id=clinic_id, email=email, password=password,
                    display_name=display_name, role=Role.LAB_ADMIN,
                )  # fmt: skip
                await session.commit()
                return user.id

    user_id = _run(work())
    click.echo(f"created lab admin {email} ({user_id}) in clinic {clinic_id}")


@main.command("rotate-keys")
@database_url_option
@click.option(
    "--keep",
    default=2,
    show_default=True,
    type=click.IntRange(0, 10),
    help="older token signing keys kept for verification",
)
@click.option("--quiet", is_flag=True, help="no progress bar")
def rotate_keys(database_url: str | None, keep: int, quiet: bool) -> None:
    """Add a new token signing key, and re-seal messages under the primary message key.

    To rotate the message key, prepend a new key (``htma generate-message-key``) to
    HTMA_MESSAGE_KEYS, keep the old one listed, run this command, then drop the old key.
    """
    settings = _settings(database_url)
    with CommandErrors(ValueError):
        new = SigningKeyStore(settings.signing_keys_path).rotate(keep=keep)
    click.echo(f"token signing key {new.kid} is now primary (restart htma to use it)")
    cipher = settings.message_cipher()

    async def work() -> int:
        async with open_engine(settings.database_url) as engine:
            sessions = create_sessionmaker(engine)
            with (
                bypass(reason="message key rotation", actor="htma rotate-keys"),
                click.progressbar(length=0, label="re-sealing messages", file=sys.stderr,
                                  hidden=quiet) as bar,
            ):  # fmt: skip
                async with sessions() as session:
                    return await rotate_messages(session, cipher, progress=bar.update)

    count = _run(work())
    click.echo(f"re-sealed {count} messages under message key {cipher.primary_key_id}")


@main.command("rotate-totp-keys")
@database_url_option
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--quiet", is_flag=True, help="no progress bar")
def rotate_totp_keys(database_url: str | None, batch_size: int, quiet: bool) -> None:
    """Re-seal every TOTP secret under the primary TOTP key (and seal plaintext ones).

    To rotate, prepend a new key (``htma generate-message-key``) to HTMA_TOTP_KEYS, keep
    the old one listed, restart htma, run this command, then drop the old key.
    """
    settings = _settings(database_url)

    async def work() -> int:
        async with open_engine(settings.database_url) as engine:
            totp = TotpManager(
                engine, issuer_name=settings.service_name, sealer=settings.totp_sealer()
            )
            pending = await totp.reseal_pending()
            with click.progressbar(
                length=pending, label="re-sealing TOTP secrets", file=sys.stderr, hidden=quiet
            ) as bar:
                return await totp.reseal(batch_size=batch_size, progress=bar.update)

    count = _run(work())
    click.echo(f"re-sealed {count} TOTP secrets under key {settings.totp_sealer().primary_key_id}")


@main.command("generate-message-key")
@click.argument("key_id")
def generate_message_key(key_id: str) -> None:
    """Print a new message key ``<key_id>:<base64>`` for HTMA_MESSAGE_KEYS."""
    with CommandErrors(ValueError):
        click.echo(generate_key(key_id))


@main.command("worker")
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
    """Run the Celery worker (results, webhook deliveries) and the outbox relay."""
    settings = _settings()
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


@main.command("beat")
@click.option("--loglevel", default="INFO", show_default=True)
def beat_command(loglevel: str) -> None:
    """Run the beat scheduler alone (the webhook sweeper); exactly one per deployment."""
    settings = _settings()
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


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Run the API with uvicorn (one process; use a process manager in production).

    Proxy headers (``X-Forwarded-For``) are believed only from ``HTMA_TRUSTED_PROXIES``.
    """
    from spaps_ops import server_options  # noqa: PLC0415  # this command's own import

    settings = _settings()
    uvicorn.run(create_app(settings), host=host, port=port, **server_options(settings))


if __name__ == "__main__":
    main()
