"""Secure messaging routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from spaps_ops import openapi_problem

from htma.deps import CallerDep, ServicesDep, SessionDep
from htma.errors import ForbiddenError, InvalidMessageError, NotFoundError
from htma.messaging import service

router = APIRouter(prefix="/v1/messages", tags=["messages"])


class MessageIn(BaseModel):
    """A message to a practitioner (from a patient) or to a patient (from a practitioner)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"recipient_id": "5f0c3b2e9a7d4e6f8a1b2c3d4e5f6a7b",
                          "body": "Should I take magnesium with food?"}]
        }
    )  # fmt: skip

    recipient_id: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=service.MAX_BODY)


class MessageOut(BaseModel):
    """A message, decrypted for its sender or recipient."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
                          "sender_id": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                          "recipient_id": "5f0c3b2e9a7d4e6f8a1b2c3d4e5f6a7b",
                          "body": "Should I take magnesium with food?",
                          "created_at": "2026-11-23T10:05:00Z"}]
        }
    )  # fmt: skip

    id: str
    sender_id: str
    recipient_id: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, message: service.PlainMessage) -> MessageOut:
        return cls.model_validate(message, from_attributes=True)


@router.post(
    "",
    response_model=MessageOut,
    status_code=201,
    summary="Send a secure message",
    operation_id="send_message",
    responses={
        403: openapi_problem("Not a patient-practitioner pair", ForbiddenError),
        404: openapi_problem("No such recipient in the clinic", NotFoundError),
        422: openapi_problem(
            "A blank or too long message, or an invalid body", InvalidMessageError
        ),
    },
)
async def send(
    body: MessageIn, caller: CallerDep, session: SessionDep, services: ServicesDep
) -> MessageOut:
    """Stored encrypted (AES-256-GCM, bound to its row)."""
    caller.require("messages:send")
    sent = await service.send_message(
        session, services.cipher, caller, recipient_id=body.recipient_id, body=body.body
    )
    await session.commit()
    return MessageOut.of(sent)


@router.get(
    "", response_model=list[MessageOut], summary="The caller's messages", operation_id="inbox"
)
async def inbox(
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[MessageOut]:
    """Sent and received, newest first."""
    caller.require("messages:read")
    messages = await service.conversation(
        session, services.cipher, caller, limit=limit, offset=offset
    )
    return [MessageOut.of(m) for m in messages]
