"""Secure messages: patients and practitioners of one clinic write to each other.

Bodies are sealed (AES-GCM) before they reach the session and opened after they are
read; the database only ever holds ciphertext.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from htma.accounts.models import User, new_id
from htma.clinics.roles import Role
from htma.deps import Caller
from htma.errors import ForbiddenError, InvalidMessageError, NotFoundError
from htma.messaging.cipher import MessageCipher, message_aad
from htma.messaging.models import Message

MAX_BODY = 10_000
#: Who may write to whom.
_PAIRS = {(Role.PATIENT, Role.PRACTITIONER), (Role.PRACTITIONER, Role.PATIENT)}


@dataclass(frozen=True, slots=True)
class PlainMessage:
    """A decrypted message."""

    id: str
    sender_id: str
    recipient_id: str
    body: str
    created_at: datetime


def _aad(message: Message) -> bytes:
    return message_aad(
        message_id=message.id,
        clinic=message.tenant_id,
        sender_id=message.sender_id,
        recipient_id=message.recipient_id,
    )


async def send_message(
    session: AsyncSession, cipher: MessageCipher, caller: Caller, *, recipient_id: str, body: str
) -> PlainMessage:
    """Seal and store a message from the caller (not committed).

    Raises:
        NotFoundError: no such recipient in the caller's clinic.
        ForbiddenError: only patient <-> practitioner conversations are allowed.
        InvalidMessageError: blank or too long body.
    """
    if not body.strip() or len(body) > MAX_BODY:
        raise InvalidMessageError(f"a message body has 1 to {MAX_BODY} characters, not only spaces")
    recipient = await session.get(User, recipient_id)
    if recipient is None or recipient.clinic_id != caller.clinic:
        raise NotFoundError(f"no user {recipient_id!r} in this clinic")
    if (caller.role, Role(recipient.role)) not in _PAIRS:
        raise ForbiddenError("messages go between a patient and a practitioner")
    message = Message(
        id=new_id(),
        tenant_id=caller.clinic,
        sender_id=caller.user_id,
        recipient_id=recipient_id,
        key_id="",
        ciphertext=b"",
    )
    message.key_id, message.ciphertext = cipher.encrypt(body, aad=_aad(message))
    session.add(message)
    await session.flush()
    return PlainMessage(
        message.id, message.sender_id, message.recipient_id, body, message.created_at
    )


async def conversation(
    session: AsyncSession, cipher: MessageCipher, caller: Caller, *, limit: int, offset: int
) -> list[PlainMessage]:
    """The caller's sent and received messages, newest first, decrypted."""
    stmt = (
        select(Message)
        .where(or_(Message.sender_id == caller.user_id, Message.recipient_id == caller.user_id))
        .order_by(Message.created_at.desc(), Message.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        PlainMessage(
            m.id,
            m.sender_id,
            m.recipient_id,
            cipher.decrypt(m.key_id, m.ciphertext, aad=_aad(m)),
            m.created_at,
        )
        for m in await session.scalars(stmt)
    ]


async def rotate_messages(
    session: AsyncSession,
    cipher: MessageCipher,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-seal every message not under the primary key, in committed batches.

    Run under ``spaps_tenancy.bypass`` (all clinics) from the CLI. Returns the count.
    """
    rotated = 0
    while True:
        stmt = (
            select(Message)
            .where(Message.key_id != cipher.primary_key_id)
            .order_by(Message.id)
            .limit(batch_size)
        )
        batch = list(await session.scalars(stmt))
        if not batch:
            return rotated
        for message in batch:
            message.key_id, message.ciphertext = cipher.rotate(
                message.key_id, message.ciphertext, aad=_aad(message)
            )
        await session.commit()
        rotated += len(batch)
        if progress is not None:
            progress(len(batch))
