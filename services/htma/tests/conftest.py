"""Fixtures of the htma service's tests: migrated databases, app clients and ``htma``
processes (the empty databases on both back ends come from ``services/conftest.py``)."""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from htma import Settings, create_app
from htma.db import create_sessionmaker
from htma.migrate import MIGRATIONS
from spaps_auth import PasswordHasher, RecordingMailSender
from spaps_ops.db import open_engine
from spaps_ops.testing import DEADLINE
from spaps_ratelimit import Store
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Tenant-filtered sessions on a migrated database."""
    await MIGRATIONS.upgrade(database_url)
    async with open_engine(database_url) as engine:
        yield create_sessionmaker(engine)


# --- app clients ---------------------------------------------------------------------

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORD = "correct horse battery staple"
PANEL = {"Ca": 42.0, "Mg": 3.1, "Na": 24.0, "K": 9.5, "P": 15.0, "Zn": 11.0, "Cu": 2.6, "Fe": 2.0}


@dataclass
class Clinic:
    """A signed-up clinic with a practitioner and a patient, and their bearer headers."""

    id: str
    admin: dict[str, str]
    practitioner: dict[str, str]
    patient: dict[str, str]
    practitioner_id: str
    patient_id: str


class Clock:
    """A settable aware-UTC clock (invitations and reset links expire against it)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class HtmaClient:
    """An HTTP client on a running htma app, with flow helpers; ``mail`` holds the e-mails
    the app sent and ``clock`` is the time of its invitations and reset links."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        *,
        asgi: Any = None,
        mail: RecordingMailSender | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.http = client
        self.app = app
        self.asgi = asgi
        self.mail = mail or RecordingMailSender()
        self.clock = clock or Clock()

    @asynccontextmanager
    async def from_address(self, address: str) -> AsyncIterator[httpx.AsyncClient]:
        """Another client on the same running app, connecting from ``address``."""
        transport = httpx.ASGITransport(app=self.asgi, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://htma") as client:
            yield client

    async def login(self, email: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
        return await self.http.post(
            "/v1/auth/login", json={"email": email, "password": password, **extra}
        )

    async def bearer(self, email: str) -> dict[str, str]:
        response = await self.login(email)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def clinic(self, clinic_id: str) -> Clinic:
        """Sign up ``clinic_id`` and add a practitioner and a patient."""
        signup = await self.http.post(
            "/v1/auth/signup",
            json={
                "clinic_id": clinic_id, "clinic_name": clinic_id.title(),
                "email": f"admin@{clinic_id}.example", "password": PASSWORD,
                "display_name": "Admin",
            },
        )  # fmt: skip
        assert signup.status_code == 201, signup.text
        admin = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        ids = {}
        for role in ("practitioner", "patient"):
            created = await self.http.post(
                "/v1/users",
                headers=admin,
                json={"email": f"{role}@{clinic_id}.example", "password": PASSWORD,
                      "display_name": role.title(), "role": role},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            ids[role] = created.json()["id"]
        return Clinic(
            id=clinic_id,
            admin=admin,
            practitioner=await self.bearer(f"practitioner@{clinic_id}.example"),
            patient=await self.bearer(f"patient@{clinic_id}.example"),
            practitioner_id=ids["practitioner"],
            patient_id=ids["patient"],
        )

    async def send_message(
        self, sender: dict[str, str], recipient_id: str, body: str
    ) -> httpx.Response:
        return await self.http.post(
            "/v1/messages", headers=sender, json={"recipient_id": recipient_id, "body": body}
        )

    async def submit_panel(self, clinic: Clinic, **minerals: float) -> httpx.Response:
        return await self.http.post(
            "/v1/panels",
            headers=clinic.practitioner,
            json={"patient_id": clinic.patient_id, "sampled_on": "2026-11-20",
                  "minerals": {**PANEL, **minerals}},
        )  # fmt: skip


ClientFactory = Callable[..., AbstractAsyncContextManager[HtmaClient]]


def build_app(
    tmp_path: Path,
    *,
    ratelimit_store: Store | None = None,
    mail_sender: RecordingMailSender | None = None,
    clock: Clock | None = None,
    **settings: Any,
) -> FastAPI:
    """An htma app for tests: keys under ``tmp_path``, results computed inline, cheap
    password hashing, logs kept in memory; ``ratelimit_store`` as given (e.g. on a
    ``ManualClock``, so no budget refills while a slow machine runs the test)."""
    settings.setdefault("signing_keys_path", tmp_path / "keys.json")
    settings.setdefault("compute_mode", "inline")
    # a closed port: no test ever reaches a stray local ingredient by accident
    settings.setdefault("ingredient_url", "http://127.0.0.1:9")
    return create_app(
        Settings(**settings),
        hasher=FAST_HASHER,
        ratelimit_store=ratelimit_store,
        mail_sender=mail_sender,
        clock=clock,
        log_stream=io.StringIO(),
    )


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., FastAPI]:
    """Factory: an htma app (lifespan not run) for the given settings, see ``build_app``."""
    return functools.partial(build_app, tmp_path)


@pytest.fixture
def make_client(tmp_path: Path) -> ClientFactory:
    """Factory: an htma client on a fresh app (lifespan run) for the given settings."""

    @asynccontextmanager
    async def factory(**settings: Any) -> AsyncIterator[HtmaClient]:
        mail, clock = RecordingMailSender(), Clock()
        app = build_app(tmp_path, mail_sender=mail, clock=clock, **settings)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://htma") as c:
                yield HtmaClient(c, app, asgi=manager.app, mail=mail, clock=clock)

    return factory


@pytest.fixture
async def client(database_url: str, make_client: ClientFactory) -> AsyncIterator[HtmaClient]:
    """A client on an app over a migrated database (each back end)."""
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url) as c:
        yield c


# --- htma processes (commands, worker, beat) -------------------------------------------


@pytest.fixture
def htma(run_command: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    """``htma(*args, env=None)``: the ``htma`` command run to completion in ``tmp_path``."""
    return functools.partial(run_command, "htma.cli", cwd=tmp_path)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], Path]]]:
    """``start(*args, env=None)``: ``htma *args`` running in ``tmp_path`` on a SQLite
    broker (plus the ``HTMA_*`` variables of ``env``), its output in a file; every
    process is stopped (SIGTERM, then SIGKILL) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    base = {k: v for k, v in os.environ.items() if not k.startswith("HTMA_")}
    base.update(
        HTMA_BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.db'}",
        HTMA_BEAT_SCHEDULE_PATH=str(tmp_path / "beat" / "schedule"),
    )

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{'-'.join(args)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "htma.cli", *args],
                cwd=tmp_path, env={**base, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started.append(process)
        return process, log

    yield run
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
