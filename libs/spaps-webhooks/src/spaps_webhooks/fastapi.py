"""FastAPI integration: the receiver dependency, the endpoints router, error rendering."""
# No "from __future__ import annotations": FastAPI must resolve the local Owner alias.

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field, HttpUrl

from ._errors import SpapsWebhooksError
from ._models import Attempt, Delivery, Endpoint, EndpointWithSecret, FireResult
from ._receiver import WebhookReceiver
from ._verifier import VerifiedWebhook
from ._webhooks import Webhooks

__all__ = [
    "EndpointCreate",
    "EndpointUpdate",
    "ReplayRequest",
    "RotateRequest",
    "create_webhooks_router",
    "install_error_handlers",
    "problem_response",
    "webhook_dependency",
]


def problem_response(exc: SpapsWebhooksError) -> JSONResponse:
    """Render a library error as RFC 9457 ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": f"urn:spaps:problem:{exc.code}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "code": exc.code,
    }
    body.update(exc.extensions or {})
    return JSONResponse(
        body,
        status_code=exc.status,
        headers=dict(exc.headers or {}),
        media_type="application/problem+json",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer :class:`SpapsWebhooksError` with its status as problem+json.

    Apps using spaps-ops do not need this: it renders any error with ``status``/``code``.
    """

    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, SpapsWebhooksError):  # pragma: no cover - registered for this type
            raise exc
        return problem_response(exc)

    app.add_exception_handler(SpapsWebhooksError, handle)


def webhook_dependency(
    receiver: WebhookReceiver,
) -> Callable[[Request], AsyncIterator[VerifiedWebhook]]:
    """A FastAPI dependency that verifies the request and yields the webhook.

    A body over the receiver's ``max_body_bytes`` raises 413 before it is read whole;
    malformed or missing headers 400, bad timestamps or signatures 401, a signed but
    malformed payload 400 (``webhooks.malformed_payload``) and a replayed ``webhook-id``
    200 (``webhooks.duplicate``: the sender stops retrying and the handler does not run
    again), all as problem+json once :func:`install_error_handlers` (or spaps-ops) is
    installed; the receiver's ``on_receipt`` records each answer. When the handler
    raises, the id is released so the sender's retry is processed.

    Args:
        receiver: Size limit, verifier, payload check, replay guard and receipts.

    .. versionchanged:: 0.3.0
       The body is read through :meth:`WebhookReceiver.read_body` (size limit first).
    """

    async def verified_webhook(request: Request) -> AsyncIterator[VerifiedWebhook]:
        # Read through the receiver so an oversized body is refused before it is read
        # whole (413), never buffered by ``request.body()`` first.
        body = await receiver.read_body(request.headers, request.stream())
        webhook = await receiver.receive(request.headers, body)
        try:
            yield webhook
        except BaseException:
            await receiver.forget(webhook)
            raise

    return verified_webhook


class EndpointCreate(BaseModel):
    """Body of ``POST /endpoints``."""

    url: HttpUrl
    event_types: list[str] = Field(default_factory=list)
    description: str = ""


class EndpointUpdate(BaseModel):
    """Body of ``PATCH /endpoints/{id}``; omitted fields are unchanged."""

    url: HttpUrl | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class RotateRequest(BaseModel):
    """Body of ``POST /endpoints/{id}/rotate-secret``."""

    overlap_seconds: int | None = Field(default=None, ge=0)


class ReplayRequest(BaseModel):
    """Body of ``POST /replay``."""

    since: AwareDatetime
    endpoint_id: str | None = None
    failed_only: bool = True


class EventTypeInfo(BaseModel):
    """One entry of ``GET /event-types``."""

    type: str
    name: str
    version: int
    description: str
    schema_: dict[str, Any] = Field(alias="schema")


def create_webhooks_router(
    webhooks: Webhooks | Callable[[], Webhooks],
    *,
    owner: Callable[..., str],
) -> APIRouter:
    """The management API: endpoints, rotation, test-fire, delivery log, replay.

    Handlers are plain ``def`` (run in the thread pool) because the library talks to
    its database through a synchronous engine, shared with the Celery worker.

    Args:
        webhooks: The configured :class:`Webhooks`, or a callable returning it (e.g.
            reading it from ``app.state`` set up in the lifespan).
        owner: A FastAPI dependency returning the current owner (tenant, org, user);
            every call is scoped to it.
    """
    if isinstance(webhooks, Webhooks):
        configured = webhooks

        def current() -> Webhooks:
            return configured
    else:
        current = webhooks

    Owner = Annotated[str, Depends(owner)]
    router = APIRouter(tags=["webhooks"])

    @router.get("/event-types", response_model=list[EventTypeInfo])
    def list_event_types() -> list[dict[str, Any]]:
        return current().registry.describe()

    @router.post("/endpoints", status_code=201, response_model=EndpointWithSecret)
    def create_endpoint(body: EndpointCreate, who: Owner) -> EndpointWithSecret:
        return current().endpoints.create(
            who, str(body.url), event_types=body.event_types, description=body.description
        )

    @router.get("/endpoints", response_model=list[Endpoint])
    def list_endpoints(who: Owner) -> list[Endpoint]:
        return current().endpoints.list(who)

    @router.get("/endpoints/{endpoint_id}", response_model=Endpoint)
    def get_endpoint(endpoint_id: str, who: Owner) -> Endpoint:
        return current().endpoints.get(who, endpoint_id)

    @router.patch("/endpoints/{endpoint_id}", response_model=Endpoint)
    def update_endpoint(endpoint_id: str, body: EndpointUpdate, who: Owner) -> Endpoint:
        changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in changes:
            changes["url"] = str(body.url)
        return current().endpoints.update(who, endpoint_id, **changes)

    @router.post("/endpoints/{endpoint_id}/disable", response_model=Endpoint)
    def disable_endpoint(endpoint_id: str, who: Owner) -> Endpoint:
        return current().endpoints.disable(who, endpoint_id)

    @router.post("/endpoints/{endpoint_id}/enable", response_model=Endpoint)
    def enable_endpoint(endpoint_id: str, who: Owner) -> Endpoint:
        return current().endpoints.enable(who, endpoint_id)

    @router.delete("/endpoints/{endpoint_id}", status_code=204)
    def delete_endpoint(endpoint_id: str, who: Owner) -> Response:
        current().endpoints.delete(who, endpoint_id)
        return Response(status_code=204)

    @router.post("/endpoints/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret)
    def rotate_secret(
        endpoint_id: str, who: Owner, body: RotateRequest | None = None
    ) -> EndpointWithSecret:
        seconds = body.overlap_seconds if body is not None else None
        overlap = timedelta(seconds=seconds) if seconds is not None else None
        return current().rotate_secret(who, endpoint_id, overlap=overlap)

    @router.post("/endpoints/{endpoint_id}/test", response_model=FireResult)
    def test_fire(endpoint_id: str, who: Owner) -> FireResult:
        return current().test_fire(who, endpoint_id)

    @router.get("/endpoints/{endpoint_id}/attempts", response_model=list[Attempt])
    def endpoint_attempts(endpoint_id: str, who: Owner, limit: int = 100) -> list[Attempt]:
        current().endpoints.get(who, endpoint_id)
        return current().history.attempts(who, endpoint_id=endpoint_id, limit=min(limit, 1000))

    @router.get("/messages/{message_id}/deliveries", response_model=list[Delivery])
    def message_deliveries(message_id: str, who: Owner) -> list[Delivery]:
        return current().history.deliveries(who, message_id=message_id)

    @router.get("/messages/{message_id}/attempts", response_model=list[Attempt])
    def message_attempts(message_id: str, who: Owner) -> list[Attempt]:
        return current().history.attempts(who, message_id=message_id)

    @router.post("/messages/{message_id}/replay", status_code=202)
    def replay_message(
        message_id: str, who: Owner, endpoint_id: str | None = None
    ) -> dict[str, list[str]]:
        ids = current().history.replay_message(who, message_id, endpoint_id=endpoint_id)
        return {"deliveries": ids}

    @router.post("/replay", status_code=202)
    def replay_since(body: ReplayRequest, who: Owner) -> dict[str, list[str]]:
        ids = current().history.replay_since(
            who, body.since, endpoint_id=body.endpoint_id, failed_only=body.failed_only
        )
        return {"deliveries": ids}

    return router
