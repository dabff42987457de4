"""Receiving ``ingredient.updated`` webhooks from the ingredient service.

No ``from __future__ import annotations`` here: the receiver's dependency is a local
of :func:`catalog_router`, and FastAPI must see the evaluated annotation.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from spaps_ops import openapi_problem
from spaps_webhooks import (
    EventRegistry,
    MemoryReplayGuard,
    SqlReceiptLog,
    VerifiedWebhook,
    WebhookHeaderError,
    WebhookPayloadError,
    WebhookReceiver,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerifier,
)
from spaps_webhooks.fastapi import webhook_dependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from htma.catalog.models import IngredientUpdate
from htma.db import WEBHOOK_TABLES
from htma.deps import CallerDep, PublicSessionDep, SessionDep
from htma.events import INGREDIENT_UPDATED, IngredientUpdatedV1

#: Largest ``ingredient.updated`` body accepted (an event is well under 1 KiB).
MAX_WEBHOOK_BODY = 64 * 1024


def ingredient_receiver(secrets: list[str], engine: AsyncEngine) -> WebhookReceiver:
    """The receiver of ingredient's webhooks: signed with one of ``secrets``, at most
    :data:`MAX_WEBHOOK_BODY` bytes, ``ingredient.updated.v1`` data checked against htma's
    reader model, every answer recorded in ``webhook_receipts`` through ``engine``."""
    registry = EventRegistry()
    registry.register(INGREDIENT_UPDATED, IngredientUpdatedV1)
    return WebhookReceiver(
        verifier=WebhookVerifier(secrets=secrets),
        replay_guard=MemoryReplayGuard(),
        max_body_bytes=MAX_WEBHOOK_BODY,
        registry=registry,
        on_receipt=SqlReceiptLog(engine, WEBHOOK_TABLES),
    )


class Accepted(BaseModel):
    """The webhook was verified and recorded."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "accepted"}]})

    status: str


class UpdateOut(BaseModel):
    """A catalog change htma was told about."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"webhook_id": "msg_2f...", "code": "D063", "name": "Spinach",
                          "version": 3}]
        }
    )  # fmt: skip

    webhook_id: str
    code: str
    name: str
    version: int


def catalog_router(receiver: WebhookReceiver) -> APIRouter:
    """Routes: the webhook receiver and the list of received updates."""
    router = APIRouter(tags=["catalog"])
    verified = webhook_dependency(receiver)

    @router.post(
        "/v1/hooks/ingredient",
        response_model=Accepted,
        summary="Receive ingredient.updated (Standard Webhooks)",
        responses={
            400: openapi_problem(
                "Missing or malformed webhook headers, or a signed payload that is not a "
                "valid ingredient.updated.v1 event (webhooks.malformed_payload)",
                WebhookHeaderError,
                WebhookPayloadError,
            ),
            401: openapi_problem(
                "Bad signature or timestamp", WebhookSignatureError, WebhookTimestampError
            ),
            413: openapi_problem(
                f"Body over {MAX_WEBHOOK_BODY} bytes (not read whole)", WebhookTooLargeError
            ),
        },
    )
    async def receive(
        webhook: Annotated[VerifiedWebhook, Depends(verified)], session: PublicSessionDep
    ) -> Accepted:
        """Signed by ingredient with the shared ``whsec_`` secret; replays are absorbed."""
        if webhook.event_type != INGREDIENT_UPDATED:
            return Accepted(status="ignored")
        event = IngredientUpdatedV1.model_validate(webhook.data)  # checked by the receiver
        if await session.get(IngredientUpdate, webhook.id) is None:
            session.add(
                IngredientUpdate(
                    webhook_id=webhook.id, code=event.code, name=event.name,
                    version=event.version,
                )
            )  # fmt: skip
            await session.commit()
        return Accepted(status="accepted")

    @router.get(
        "/v1/catalog/updates",
        response_model=list[UpdateOut],
        summary="Catalog changes received from ingredient",
    )
    async def updates(caller: CallerDep, session: SessionDep) -> list[UpdateOut]:
        """Newest first (staff only)."""
        caller.require("panels:read")
        rows = await session.scalars(
            select(IngredientUpdate).order_by(IngredientUpdate.received_at.desc()).limit(100)
        )
        return [
            UpdateOut(webhook_id=r.webhook_id, code=r.code, name=r.name, version=r.version)
            for r in rows
        ]

    return router
