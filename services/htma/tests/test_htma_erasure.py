"""Erasure of a clinic or a user over HTTP: queued with a status to poll, run by the
worker's task (resumable after a crash or a failure), audited, and confined to the
caller's clinic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from htma import Settings
from htma.db import OUTBOX, create_sessionmaker
from htma.erasure.service import ERASURE_REQUESTED, request_erasure, run_erasure
from htma.erasure.steps import ERASED_NAME, erased_email
from htma.migrate import MIGRATIONS
from htma.runtime import PANEL_SUBMITTED
from htma.worker import Worker, create_worker
from spaps_auth import AuditLog
from spaps_jobs import MESSAGE_ID_HEADER
from spaps_ops.db import open_engine, sync_url
from spaps_ops.testing import poll
from sqlalchemy import bindparam, create_engine, select, text

from .conftest import PASSWORD, ClientFactory, HtmaClient

REASON = {"reason": "GDPR art. 17 request 2026-118"}
#: Where a clinic's or a user's rows are, and how a row names its owner.
OWNED_BY = {
    "clinics": "id IN :clinics",
    "users": "clinic_id IN :clinics",
    "panels": "tenant_id IN :clinics",
    "results": "tenant_id IN :clinics",
    "messages": "tenant_id IN :clinics",
    "auth_organisations": "id IN :clinics",
    "auth_invitations": "org_id IN :clinics",
    "webhook_endpoints": "owner IN :clinics",
    "webhook_messages": "owner IN :clinics",
    "auth_sessions": "user_id IN :users",
    "auth_refresh_tokens": "session_id IN (SELECT id FROM auth_sessions WHERE user_id IN :users)",
}


def held(database_url: str, clinics: list[str], users: list[str]) -> dict[str, int]:
    """Rows still held per table for ``clinics`` and ``users`` (tables without omitted)."""
    engine = create_engine(sync_url(database_url))
    found = {}
    with engine.connect() as conn:
        for table, where in OWNED_BY.items():
            name = "clinics" if ":clinics" in where else "users"
            query = text(f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608 -- constants
            query = query.bindparams(bindparam(name, expanding=True))
            rows = conn.execute(query, {name: clinics if name == "clinics" else users}).scalar_one()
            if rows:
                found[table] = rows
    engine.dispose()
    return found


def outbox_left(database_url: str, clinic: str) -> int:
    """Outbox messages naming ``clinic`` (a result to compute, an event to fan out)."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        payloads = conn.execute(select(OUTBOX.table.c.payload)).scalars().all()
    engine.dispose()
    return sum(1 for p in payloads if clinic in (p.get("clinic"), p.get("owner")))


@pytest.fixture
async def client(database_url: str, make_client: ClientFactory) -> AsyncIterator[HtmaClient]:
    """A client whose app checks each token's session on every request (no cache), so
    the tokens of erased sessions fail at once."""
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, session_check_ttl=0) as c:
        yield c


@pytest.fixture
async def worker(database_url: str, tmp_path: Path) -> AsyncIterator[Worker]:
    """The worker's Celery app (its broker unused: tests run its tasks in-process)."""
    settings = Settings(
        database_url=database_url,
        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}",
        signing_keys_path=tmp_path / "keys.json",
        ingredient_url="http://127.0.0.1:9",
    )
    built = create_worker(settings)
    yield built
    built.runtime.close()


def run_queued(worker: Worker) -> list[Any]:
    """Run every queued erasure as the worker does on the relay's message; the rows."""
    t = OUTBOX.table
    with worker.runtime.sync_engine.connect() as conn:
        rows = list(conn.execute(select(t).where(t.c.topic == ERASURE_REQUESTED)))
    for row in rows:
        result = worker.celery.tasks[ERASURE_REQUESTED].apply(
            args=[row.payload], task_id=row.message_id,
            headers={MESSAGE_ID_HEADER: row.message_id},
        )  # fmt: skip
        assert result.successful(), result.traceback
    with worker.runtime.sync_engine.connect() as conn:
        return list(conn.execute(select(t).where(t.c.topic == ERASURE_REQUESTED)))


async def audited(database_url: str, target: str) -> list[str]:
    """The audit log's actions about ``target``."""
    async with open_engine(database_url) as engine:
        entries = await AuditLog(engine).entries(limit=10_000)
    return [e.action for e in entries if e.target == target]


async def populate(client: HtmaClient, clinic_id: str) -> Any:
    """A clinic with a result, messages both ways, an invitation and a webhook endpoint."""
    clinic = await client.clinic(clinic_id)
    assert (await client.submit_panel(clinic)).status_code == 202
    for sender, to in (
        (clinic.patient, clinic.practitioner_id),
        (clinic.practitioner, clinic.patient_id),
    ):
        assert (await client.send_message(sender, to, "about my zinc")).status_code == 201
    invited = await client.http.post(
        "/v1/clinic/invitations", headers=clinic.admin,
        json={"email": f"new@{clinic_id}.example", "role": "patient"},
    )  # fmt: skip
    assert invited.status_code == 201, invited.text
    endpoint = await client.http.post(
        "/v1/webhooks/endpoints", headers=clinic.admin,
        json={"url": "https://93.184.215.14/hooks", "event_types": ["result.ready.v1"]},
    )  # fmt: skip
    assert endpoint.status_code == 201, endpoint.text
    assert (await client.submit_panel(clinic)).status_code == 202  # an event to deliver
    return clinic


async def users_of(client: HtmaClient, clinic: Any) -> list[str]:
    listed = await client.http.get("/v1/users", headers=clinic.admin)
    return [u["id"] for u in listed.json()]


async def test_a_lab_admin_erases_their_clinic(
    client: HtmaClient, worker: Worker, database_url: str
) -> None:
    alpha = await populate(client, "alpha")
    bravo = await populate(client, "bravo")
    alpha_users, bravo_users = await users_of(client, alpha), await users_of(client, bravo)
    before = held(database_url, ["alpha"], alpha_users)
    bravo_before = held(database_url, ["bravo"], bravo_users)
    assert set(before) == set(OWNED_BY)  # every kind of row exists to be erased
    assert outbox_left(database_url, "alpha") > 0

    queued = await client.http.post("/v1/clinics/alpha/erasure", headers=alpha.admin, json=REASON)
    assert queued.status_code == 202, queued.text
    erasure = queued.json()
    assert (erasure["kind"], erasure["subject"], erasure["status"]) == ("tenant", "alpha", "queued")
    assert queued.headers["location"] == f"/v1/erasures/{erasure['id']}"
    again = await client.http.post("/v1/clinics/alpha/erasure", headers=alpha.admin, json=REASON)
    assert (again.status_code, again.json()["id"]) == (202, erasure["id"])  # the pending one
    status = await client.http.get(queued.headers["location"])  # no token needed
    assert status.json()["status"] == "queued"

    [message] = await asyncio.to_thread(run_queued, worker)
    assert message.confirmed_at is not None  # the task confirmed what it consumed

    done = (await client.http.get(queued.headers["location"])).json()
    assert (done["status"], done["error"]) == ("done", None)
    assert done["started_at"] is not None
    assert done["finished_at"] is not None
    assert held(database_url, ["alpha"], alpha_users) == {}
    assert outbox_left(database_url, "alpha") == 0
    for table in ("clinics", "users", "panels", "results", "messages", "webhook_endpoints"):
        assert done["counts"][table] == before[table], table
    assert done["counts"]["auth_sessions"] == before["auth_sessions"]
    # bravo is untouched, alpha's tokens are dead, and both steps are in the audit log
    assert held(database_url, ["bravo"], bravo_users) == bravo_before
    assert (await client.http.get("/v1/panels", headers=bravo.practitioner)).status_code == 200
    assert (await client.http.get("/v1/me", headers=alpha.admin)).status_code == 401
    assert (await client.login("admin@alpha.example")).status_code == 401
    assert await audited(database_url, erasure["id"]) == ["erasure.requested", "erasure.completed"]
    # a redelivered message finds it done and changes nothing
    await asyncio.to_thread(run_queued, worker)
    assert (await client.http.get(queued.headers["location"])).json() == done


async def test_a_patient_erases_themself(
    client: HtmaClient, worker: Worker, database_url: str
) -> None:
    clinic = await populate(client, "northside")
    other = await client.http.post(
        "/v1/users", headers=clinic.admin,
        json={"email": "other@northside.example", "password": PASSWORD,
              "display_name": "Other", "role": "patient"},
    )  # fmt: skip
    assert other.status_code == 201
    queued = await client.http.post(
        f"/v1/users/{clinic.patient_id}/erasure", headers=clinic.patient, json=REASON
    )
    assert queued.status_code == 202, queued.text
    await asyncio.to_thread(run_queued, worker)

    done = (await client.http.get(queued.headers["location"])).json()
    assert (done["kind"], done["status"], done["error"]) == ("user", "done", None)
    assert done["counts"]["panels"] == 2
    assert done["counts"]["results"] == 2
    assert done["counts"]["messages"] == 2  # written and received
    assert done["counts"]["users"] == 1  # anonymised
    assert (await client.login("patient@northside.example")).status_code == 401
    assert (await client.http.get("/v1/me", headers=clinic.patient)).status_code == 401
    users = {u["id"]: u for u in (await client.http.get("/v1/users", headers=clinic.admin)).json()}
    tombstone = users[clinic.patient_id]
    assert (tombstone["email"], tombstone["display_name"]) == (
        erased_email(clinic.patient_id), ERASED_NAME,
    )  # fmt: skip
    # the clinic and its other users keep their data
    assert (await client.http.get("/v1/panels", headers=clinic.practitioner)).json() == []
    assert (await client.http.get("/v1/messages", headers=clinic.practitioner)).json() == []
    assert (await client.http.get("/v1/me", headers=clinic.practitioner)).status_code == 200
    assert other.json()["id"] in users
    assert await audited(database_url, done["id"]) == ["erasure.requested", "erasure.completed"]
    # erased: asking again finds no such user
    again = await client.http.post(
        f"/v1/users/{clinic.patient_id}/erasure", headers=clinic.admin, json=REASON
    )
    assert (again.status_code, again.json()["code"]) == (404, "htma.not_found")


async def test_a_lab_admin_erases_a_practitioner_and_the_patients_records_stay(
    client: HtmaClient, worker: Worker
) -> None:
    clinic = await populate(client, "northside")
    queued = await client.http.post(
        f"/v1/users/{clinic.practitioner_id}/erasure", headers=clinic.admin, json=REASON
    )
    assert queued.status_code == 202, queued.text
    await asyncio.to_thread(run_queued, worker)
    done = (await client.http.get(queued.headers["location"])).json()
    assert done["status"] == "done"
    assert (done["counts"]["panels"], done["counts"]["users"]) == (0, 1)
    panels = (await client.http.get("/v1/panels", headers=clinic.patient)).json()
    assert [p["practitioner_id"] for p in panels] == [clinic.practitioner_id] * 2
    assert (await client.http.get("/v1/messages", headers=clinic.patient)).json() == []


async def test_erasure_stays_in_the_callers_clinic(client: HtmaClient) -> None:
    alpha, bravo = await client.clinic("alpha"), await client.clinic("bravo")
    cases = [
        ("/v1/clinics/bravo/erasure", alpha.admin, 403),  # another clinic
        ("/v1/clinics/alpha/erasure", alpha.practitioner, 403),  # not a lab admin
        ("/v1/clinics/alpha/erasure", alpha.patient, 403),
        (f"/v1/users/{bravo.patient_id}/erasure", alpha.admin, 404),  # another clinic's user
        (f"/v1/users/{alpha.practitioner_id}/erasure", alpha.patient, 403),  # someone else
        (f"/v1/users/{alpha.patient_id}/erasure", alpha.practitioner, 403),
    ]
    for path, headers, expected in cases:
        answer = await client.http.post(path, headers=headers, json=REASON)
        assert answer.status_code == expected, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.http.get("/v1/me", headers=bravo.admin)).status_code == 200
    assert len(await users_of(client, bravo)) == 3


async def test_the_last_lab_admin_cannot_erase_themself(client: HtmaClient) -> None:
    clinic = await client.clinic("northside")
    me = (await client.http.get("/v1/me", headers=clinic.admin)).json()
    refused = await client.http.post(f"/v1/users/{me['id']}/erasure", headers=clinic.admin,
                                     json=REASON)  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (409, "htma.conflict")


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/clinics/northside/erasure", {"reason": "   "}, 422, "ops.validation_failed"),
        ("/v1/clinics/northside/erasure", {}, 422, "ops.validation_failed"),
        ("/v1/clinics/North_Side/erasure", REASON, 422, "ops.validation_failed"),
        ("/v1/clinics/northside/erasure", {"reason": "x" * 501}, 422, "ops.validation_failed"),
    ],
)
async def test_bad_input_is_a_problem_with_a_registered_code(
    client: HtmaClient, path: str, body: dict[str, str], status: int, code: str
) -> None:
    clinic = await client.clinic("northside")
    answer = await client.http.post(path, headers=clinic.admin, json=body)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_unknown_erasure_is_not_found(client: HtmaClient) -> None:
    answer = await client.http.get("/v1/erasures/0123456789abcdef")
    assert (answer.status_code, answer.json()["code"]) == (404, "htma.not_found")


class Crash(BaseException):
    """The process dies (a BaseException, as the signal of a killed worker would be)."""


async def test_an_interrupted_erasure_resumes_and_ends_done_with_nothing_left(
    client: HtmaClient, worker: Worker, database_url: str
) -> None:
    clinic = await populate(client, "alpha")
    users = await users_of(client, clinic)
    before = held(database_url, ["alpha"], users)
    queued = await client.http.post("/v1/clinics/alpha/erasure", headers=clinic.admin, json=REASON)
    erasure_id = queued.json()["id"]

    def crash_after(steps: int, error: BaseException) -> Any:
        def progress(_name: str, done: int, _total: int) -> None:
            if done == steps:
                raise error

        return progress

    async with open_engine(database_url) as engine:
        audit = AuditLog(engine)
        # killed mid-way: the request stays running; its steps so far are committed
        with pytest.raises(Crash):
            await run_erasure(engine, erasure_id, audit=audit, progress=crash_after(3, Crash()))
        running = (await client.http.get(f"/v1/erasures/{erasure_id}")).json()
        assert running["status"] == "running"
        assert running["counts"]["auth_sessions"] == before["auth_sessions"]
        assert "clinics" not in running["counts"]
        # asking again while it runs answers the same request (the CLI's way: the
        # clinic's sessions are gone already)
        async with create_sessionmaker(engine)() as session:
            same, created = await request_erasure(
                session,
                kind="tenant",
                subject="alpha",
                requested_by="cli",
                reason="again",
                audit=audit,
            )
        assert (same.id, created) == (erasure_id, False)
        # a failure later on: recorded, with the error
        with pytest.raises(RuntimeError):
            await run_erasure(
                engine, erasure_id, audit=audit,
                progress=crash_after(8, RuntimeError("disk full\nmore detail")),
            )  # fmt: skip
        failed = (await client.http.get(f"/v1/erasures/{erasure_id}")).json()
        assert (failed["status"], failed["error"]) == ("failed", "RuntimeError: disk full")
    # the worker's task (the relay sends the unconfirmed message again) finishes it
    await asyncio.to_thread(run_queued, worker)
    done = (await client.http.get(f"/v1/erasures/{erasure_id}")).json()
    assert (done["status"], done["error"]) == ("done", None)
    assert held(database_url, ["alpha"], users) == {}
    for table in ("clinics", "users", "panels", "results", "messages", "auth_sessions"):
        assert done["counts"][table] == before[table], table  # each row counted once


async def test_a_second_request_while_one_is_pending_returns_it(client: HtmaClient) -> None:
    clinic = await client.clinic("northside")
    path = f"/v1/users/{clinic.patient_id}/erasure"
    first = await client.http.post(path, headers=clinic.patient, json=REASON)
    second = await client.http.post(path, headers=clinic.admin, json={"reason": "again"})
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]


# --- a real worker process -------------------------------------------------------------

#: How long the worker may take to start and work on a loaded machine: a hang detector.
STARTUP = 300.0


def _status(database_url: str, erasure_id: str) -> str | None:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM erasure_requests WHERE id = :id"), {"id": erasure_id}
        ).scalar_one_or_none()
    engine.dispose()
    return status


def _unconfirmed(database_url: str) -> int:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM spaps_outbox WHERE confirmed_at IS NULL")
        ).scalar_one()
    engine.dispose()
    return int(count)


async def test_a_worker_process_erases_the_clinic(
    database_url: str, make_client: ClientFactory, start: Any, tmp_path: Path
) -> None:
    await MIGRATIONS.upgrade(database_url)
    worker, log = start("worker", "--no-beat", env={
        "HTMA_DATABASE_URL": database_url, "HTMA_INGREDIENT_URL": "http://127.0.0.1:9",
        "HTMA_OUTBOX_REDELIVER_AFTER": "600",
    })  # fmt: skip
    async with make_client(database_url=database_url, compute_mode="worker") as client:
        clinic = await client.clinic("alpha")
        panel = (await client.submit_panel(clinic)).json()
        assert (await client.send_message(clinic.patient, clinic.practitioner_id, "hi")).is_success
        # the worker computes the panel (and fans out its event): nothing left in flight
        await asyncio.to_thread(
            poll, lambda: _unconfirmed(database_url) == 0 or worker.poll() is not None,
            "the worker to consume the outbox", deadline=STARTUP,
        )  # fmt: skip
        assert worker.poll() is None, log.read_text()
        result = await client.http.get(f"/v1/panels/{panel['id']}/result", headers=clinic.admin)
        assert result.status_code == 200
        users = await users_of(client, clinic)

        queued = await client.http.post("/v1/clinics/alpha/erasure", headers=clinic.admin,
                                        json=REASON)  # fmt: skip
        assert queued.status_code == 202, queued.text
        erasure_id = queued.json()["id"]
        await asyncio.to_thread(
            poll, lambda: _status(database_url, erasure_id) == "done" or worker.poll() is not None,
            "the worker to erase the clinic", deadline=STARTUP,
        )  # fmt: skip
        assert worker.poll() is None, log.read_text()
        done = (await client.http.get(queued.headers["location"])).json()
    assert (done["status"], done["error"]) == ("done", None)
    assert (done["counts"]["panels"], done["counts"]["results"]) == (1, 1)
    assert held(database_url, ["alpha"], users) == {}
    assert _unconfirmed(database_url) == 0  # the erasure's message is confirmed


async def test_a_panel_erased_before_its_result_confirms_its_message(
    database_url: str, make_client: ClientFactory, worker: Worker
) -> None:
    """The patient is erased while their panel waits for the worker: the message finds
    no panel, computes nothing and is confirmed (never sent again)."""
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, compute_mode="worker") as client:
        clinic = await client.clinic("northside")
        assert (await client.submit_panel(clinic)).status_code == 202
        queued = await client.http.post(
            f"/v1/users/{clinic.patient_id}/erasure", headers=clinic.admin, json=REASON
        )
        assert queued.status_code == 202
    await asyncio.to_thread(run_queued, worker)
    t = OUTBOX.table
    with worker.runtime.sync_engine.connect() as conn:
        [panel] = conn.execute(select(t).where(t.c.topic == PANEL_SUBMITTED)).all()
    applied = await asyncio.to_thread(
        worker.celery.tasks[PANEL_SUBMITTED].apply, args=[panel.payload],
        headers={MESSAGE_ID_HEADER: panel.message_id},
    )  # fmt: skip
    assert applied.successful(), applied.traceback
    assert applied.result is False  # nothing computed
    with worker.runtime.sync_engine.connect() as conn:
        [panel] = conn.execute(select(t).where(t.c.topic == PANEL_SUBMITTED)).all()
    assert panel.confirmed_at is not None
