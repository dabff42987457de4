"""Requesting an erasure (the request row and its outbox message in one transaction),
running it (the job's body, resumable) and reading its status.

A run takes the request (``running``), then commits each step of
:mod:`htma.erasure.steps` together with the request's updated ``counts``, so the counts
are exact however often the run was interrupted and resumed; it ends ``done`` (and
confirms the outbox message that asked for it) or, on an error, ``failed`` with the
error, which the next run (the relay redelivers an unconfirmed message) clears.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from spaps_auth import AuditLog
from sqlalchemy import Connection, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from htma.accounts.models import User
from htma.clinics.models import Clinic
from htma.clinics.roles import Role
from htma.db import OUTBOX, Base
from htma.erasure.models import PENDING, ErasureRequest
from htma.erasure.steps import Step, erased_email, tenant_steps, user_steps
from htma.errors import ConflictError, NotFoundError

#: Outbox topic (= Celery task name) of a requested erasure.
ERASURE_REQUESTED = "htma.erasure_requested"

Progress = Callable[[str, int, int], None]
"""Called after each step: ``(step name, steps done, steps in all)``."""
Clock = Callable[[], datetime]

_TABLE = Base.metadata.tables["erasure_requests"]
_MAX_ERROR = 500


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _pending(session: AsyncSession, kind: str, subject: str) -> ErasureRequest | None:
    return await session.scalar(
        select(ErasureRequest)
        .where(
            ErasureRequest.kind == kind,
            ErasureRequest.subject == subject,
            ErasureRequest.status.in_(PENDING),
        )
        .order_by(ErasureRequest.created_at)
        .limit(1)
    )


async def subject_clinic(session: AsyncSession, kind: str, subject: str) -> str:
    """The clinic of an erasure's subject, the subject's row locked (PostgreSQL) until
    the transaction ends, so concurrent requests for one subject queue one erasure.

    Raises:
        NotFoundError: no such clinic, or no such user (or an anonymised one).
        ConflictError: the user is their clinic's last lab admin (erase the clinic, or
            add another lab admin first).
    """
    if kind == "tenant":
        clinic = await session.scalar(select(Clinic).where(Clinic.id == subject).with_for_update())
        if clinic is None:
            raise NotFoundError(f"no clinic {subject!r}")
        return clinic.id
    user = await session.scalar(select(User).where(User.id == subject).with_for_update())
    if user is None or user.email == erased_email(user.id):
        raise NotFoundError(f"no user {subject!r}")
    if user.role == Role.LAB_ADMIN:
        admins = await session.scalars(
            select(User.id).where(User.clinic_id == user.clinic_id, User.role == Role.LAB_ADMIN)
        )
        if list(admins) == [user.id]:
            raise ConflictError(
                "the clinic's last lab admin: add another lab admin, or erase the clinic"
            )
    return user.clinic_id


async def request_erasure(
    session: AsyncSession,
    *,
    kind: str,
    subject: str,
    requested_by: str,
    reason: str,
    audit: AuditLog,
    request_id: str | None = None,
    enqueue: bool = True,
) -> tuple[ErasureRequest, bool]:
    """Queue the erasure of ``subject`` and commit; or return the one already pending.

    The request row and its outbox message (``enqueue``) are committed together: the
    worker is asked if and only if the request exists. A new request is audited
    (``erasure.requested``).

    Args:
        session: a session (the request is not tenant-scoped).
        kind: ``tenant`` or ``user``.
        subject: the clinic id or the user id.
        requested_by: who asks (a user id, or ``cli``).
        reason: why (e.g. the data subject's request reference).
        audit: spaps-auth's audit log.
        request_id: the HTTP request's id, carried to the job's logs.
        enqueue: write the outbox message (``False``: the caller runs it itself).

    Returns:
        ``(request, created)``; ``created`` is False when one was pending already.

    Raises:
        ValueError: a blank reason.
        NotFoundError: no such subject.
        ConflictError: see :func:`subject_clinic`.
    """
    if not reason.strip():
        raise ValueError("an erasure needs a reason (e.g. the data subject's request reference)")
    clinic = await subject_clinic(session, kind, subject)
    existing = await _pending(session, kind, subject)
    if existing is not None:
        return existing, False
    erasure = ErasureRequest(
        kind=kind, subject=subject, clinic_id=clinic, requested_by=requested_by,
        reason=reason, status="queued", counts={},
    )  # fmt: skip
    session.add(erasure)
    await session.flush()
    if enqueue:
        payload = {"erasure_id": erasure.id, "request_id": request_id}
        OUTBOX.add(session, ERASURE_REQUESTED, payload)
    await session.commit()
    await audit.append(
        "erasure.requested", actor=requested_by, target=erasure.id,
        data={"kind": kind, "subject": subject, "reason": reason},
    )  # fmt: skip
    return erasure, True


async def erasure_of(session: AsyncSession, erasure_id: str) -> ErasureRequest:
    """The erasure request ``erasure_id``.

    Raises:
        NotFoundError: no such request.
    """
    erasure = await session.get(ErasureRequest, erasure_id, populate_existing=True)
    if erasure is None:
        raise NotFoundError(f"no erasure request {erasure_id!r}")
    return erasure


def _locked(connection: Connection, erasure_id: str) -> Any:
    query = select(_TABLE).where(_TABLE.c.id == erasure_id).with_for_update()
    return connection.execute(query).first()


def steps_of(row: Any) -> list[Step]:
    """The steps of the erasure ``row`` (an :class:`ErasureRequest` or its table's row)."""
    if row.kind == "tenant":
        return tenant_steps(row.subject, reason=row.reason, actor=row.requested_by)
    return user_steps(row.subject, row.clinic_id)


def _describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:_MAX_ERROR]


async def run_erasure(
    engine: AsyncEngine,
    erasure_id: str,
    *,
    audit: AuditLog,
    message_id: str | None = None,
    progress: Progress | None = None,
    clock: Clock = _utcnow,
) -> str | None:
    """Run (or resume) the erasure ``erasure_id``; returns its final status.

    Idempotent: a request already ``done`` is left as it is; one ``running`` or
    ``failed`` (a run interrupted or failed) is resumed and ends ``done`` without error.
    Appends ``erasure.completed`` to the audit log (the counts) before marking it done:
    a run dying between the two appends it again when resumed.

    Args:
        engine: the service's database.
        erasure_id: the request.
        audit: spaps-auth's audit log.
        message_id: the outbox message that asked for it, confirmed once it is done.
        progress: called after each step.
        clock: the time of ``started_at`` and ``finished_at``.

    Returns:
        ``"done"``, or ``None`` for an unknown request (its message is confirmed).
    """
    async with engine.begin() as conn:
        row = await conn.run_sync(_locked, erasure_id)
        if row is None or row.status == "done":
            if message_id is not None:
                await OUTBOX.confirm_async(conn, message_id)
            return None if row is None else str(row.status)
        now = clock()
        await conn.execute(
            update(_TABLE)
            .where(_TABLE.c.id == erasure_id)
            .values(status="running", error=None, started_at=row.started_at or now)
        )
    steps = steps_of(row)
    counts: dict[str, int] = dict(row.counts or {})
    try:
        for number, step in enumerate(steps, start=1):
            async with engine.begin() as conn:
                counts = dict((await conn.run_sync(_locked, erasure_id)).counts or {})
                for table, rows in (await conn.run_sync(step.run)).items():
                    counts[table] = counts.get(table, 0) + max(rows, 0)
                await conn.execute(
                    update(_TABLE).where(_TABLE.c.id == erasure_id).values(counts=counts)
                )
            if progress is not None:
                progress(step.name, number, len(steps))
        await audit.append(
            "erasure.completed", actor=row.requested_by, target=erasure_id,
            data={"kind": row.kind, "subject": row.subject, "counts": counts},
        )  # fmt: skip
        async with engine.begin() as conn:
            await conn.execute(
                update(_TABLE)
                .where(_TABLE.c.id == erasure_id)
                .values(status="done", error=None, finished_at=clock())
            )
            if message_id is not None:
                await OUTBOX.confirm_async(conn, message_id)
    except Exception as exc:
        await _failed(engine, erasure_id, _describe(exc))
        raise
    return "done"


async def _failed(engine: AsyncEngine, erasure_id: str, error: str) -> None:
    """Record a failed run; when even that fails (the database is down), the request
    stays ``running`` and the next run resumes it all the same."""
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(_TABLE).where(_TABLE.c.id == erasure_id).values(status="failed", error=error)
            )
    except Exception:  # noqa: S110 -- the original error is the one to raise
        pass
