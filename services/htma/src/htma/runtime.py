"""What the API and the worker share beyond the database: webhooks (spaps-webhooks over
the spaps-jobs outbox), the ingredient client, and the panel pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from spaps_auth import TokenIssuer
from spaps_ops import CircuitBreaker
from spaps_tenancy import tenant_context
from spaps_webhooks import Webhooks, create_webhooks
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from htma.db import OUTBOX, WEBHOOK_TABLES
from htma.errors import NotFoundError
from htma.events import RESULT_READY, ResultReadyV1, event_registry
from htma.identity.keystore import SigningKeyStore
from htma.results.models import Result
from htma.results.recommendations import IngredientUnavailableError, RecommendationClient
from htma.results.service import compute_result
from htma.settings import Settings

#: Outbox topic (= Celery task name) of a submitted panel.
PANEL_SUBMITTED = "htma.panel_submitted"
SERVICE_SUBJECT = "service:htma"


@dataclass
class Runtime:
    """Webhooks, the ingredient client and a sync engine for the outbox relay."""

    settings: Settings
    sync_engine: Engine
    webhooks: Webhooks
    recommendations: RecommendationClient

    def close(self) -> None:
        """Dispose of the sync engine."""
        self.sync_engine.dispose()


def service_issuer(settings: Settings) -> TokenIssuer:
    """Signs htma's own service tokens (for calls to ingredient)."""
    return TokenIssuer(
        keys=SigningKeyStore(settings.signing_keys_path).load(),
        issuer=settings.issuer,
        audience=settings.token_audience,
        access_ttl=300,
    )


def build_runtime(
    settings: Settings,
    *,
    issuer: TokenIssuer | None = None,
    ingredient_transport: httpx.AsyncBaseTransport | None = None,
) -> Runtime:
    """Build the runtime for ``settings``.

    Args:
        settings: the service settings.
        issuer: token issuer for service tokens (default: from the key file).
        ingredient_transport: httpx transport to ingredient (tests pass an ASGI one).
    """
    issuer = issuer or service_issuer(settings)
    # create_webhooks seals endpoint secrets with settings.webhook_sealing_keys.
    webhooks = create_webhooks(
        settings, tables=WEBHOOK_TABLES, outbox=OUTBOX, registry=event_registry()
    )
    engine = webhooks.engine
    client = RecommendationClient(
        base_url=settings.ingredient_url,
        token=lambda: issuer.issue(SERVICE_SUBJECT, roles=["service"]),
        breaker=CircuitBreaker(
            name="ingredient",
            failure_threshold=3,
            reset_timeout=settings.ingredient_retry_after,
            failure_types=(IngredientUnavailableError,),
        ),
        transport=ingredient_transport,
    )
    return Runtime(settings, engine, webhooks, client)


async def process_panel(
    runtime: Runtime,
    sessions: async_sessionmaker[AsyncSession],
    *,
    panel_id: str,
    clinic: str,
    request_id: str | None = None,
    message_id: str | None = None,
) -> bool:
    """Compute a panel's result with recommendations and publish ``result.ready``.

    Idempotent: returns False (and publishes nothing) when the result exists already.
    With the outbox ``message_id`` that asked for it, the message is then confirmed
    (first delivery or not), so the relay stops sending it again. A consumer dying
    between the result's commit and the confirmation is sent the message again, finds
    the result and confirms. A message for a panel erased meanwhile is confirmed too.
    """

    async def recommend(symbols: Sequence[str]) -> dict[str, Any]:
        return await runtime.recommendations.for_minerals(symbols, request_id=request_id)

    def publish(session: AsyncSession, result: Result) -> None:
        payload = ResultReadyV1(
            result_id=result.id,
            panel_id=result.panel_id,
            patient_id=result.patient_id,
            clinic=clinic,
            deficient=result.deficient,
            reference_version=result.reference_version,
            recommendations=str((result.recommendations or {}).get("status", "ok")),
        )
        runtime.webhooks.publish(session, RESULT_READY, payload, owner=clinic)

    with tenant_context(clinic):
        async with sessions() as session:
            try:
                _, created = await compute_result(
                    session, panel_id, recommend=recommend, on_created=publish
                )
            except NotFoundError:
                if message_id is None:
                    raise
                # Erased (the clinic, or the patient) before its result was computed:
                # nothing is left to compute, and sending the message again cannot help.
                created = False
            if message_id is not None:
                await OUTBOX.confirm_async(session, message_id)
                await session.commit()
    return created
