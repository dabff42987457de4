"""graphql_router: Strawberry's FastAPI router with the unsafe transports switched off."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry import UNSET
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from ._request_id import get_request_id
from ._strawberry_errors import INVALID_CODE, recode

#: Builds the context of an operation; FastAPI resolves its dependencies.
ContextGetter: TypeAlias = Callable[..., Any | Awaitable[Any]]

# The codes of the transport refusals Strawberry raises as HTTP exceptions (it raises
# 400, 404 and 405; any other status gets the catch-all ``ops.http_error``).
_TRANSPORT_CODES = {400: INVALID_CODE, 404: "ops.not_found", 405: "ops.method_not_allowed"}


def transport_error(
    status: int, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    """A GraphQL-shaped error answer for a request refused before any operation ran.

    Args:
        status: the HTTP status.
        message: what is wrong.
        headers: extra response headers.
    """
    code = _TRANSPORT_CODES.get(status, "ops.http_error")
    extensions = {"code": code, "status": status, "request_id": get_request_id()}
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


class _SecureGraphQLRouter(GraphQLRouter[Any, Any]):
    """A GraphQLRouter that answers GET (but the IDE page), batches and websockets with a
    refusal, and its transport errors as GraphQL errors carrying a code."""

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # The last word before the answer: an error ProblemErrors did not see (the schema
        # lacks it, or an extension failed entering on_operation) is recoded and masked
        # here too. Recoding an error ProblemErrors already recoded changes nothing.
        if result.errors:
            context = {"request": request}
            result.errors = [recode(error, context=context) for error in result.errors]
        return await super().process_result(request, result)

    async def run(
        self,
        request: Request | WebSocket,
        context: Any = UNSET,
        root_value: Any = UNSET,
    ) -> Any:
        if isinstance(request, WebSocket):
            # No subscriptions: the middlewares (authentication, tenancy, rate limits)
            # guard HTTP requests only.
            return await self.reject_websocket(request)
        adapter = self.request_adapter_class(request)
        if request.method == "GET" and not (
            self.graphql_ide and self.should_render_graphql_ide(adapter)
        ):
            # No operation over GET: nothing a cross-site <img> or link could trigger.
            return transport_error(
                405, "GraphQL operations are accepted over POST only", headers={"Allow": "POST"}
            )
        try:
            return await super().run(request, context=context, root_value=root_value)
        except Exception as exc:
            # Strawberry's HTTP exception: caught by its shape (status_code, reason), as
            # the class moved between Strawberry releases (now cross_web.HTTPException).
            status, reason = getattr(exc, "status_code", None), getattr(exc, "reason", None)
            if not isinstance(status, int) or not isinstance(reason, str):
                raise
            return transport_error(status, reason)


def graphql_router(
    schema: BaseSchema,
    *,
    production: bool,
    context_getter: ContextGetter | None = None,
    path: str = "/graphql",
) -> GraphQLRouter[Any, Any]:
    """Strawberry's FastAPI router for ``schema``, safe to expose.

    Mount it with ``app.include_router(router)``: the route is ``path`` itself, which is
    the route template the access log and the metrics name (mounted below an
    ``include_router`` prefix instead, Strawberry's route keeps its empty path and the
    requests are labelled ``""``). Operations are
    accepted as one JSON object per POST: a batch (a JSON array) answers 400
    ``graphql.invalid`` (unless the schema's config enables batching), a GET answers 405
    ``ops.method_not_allowed`` with ``Allow: POST`` (no query, and above all no mutation,
    over GET: nothing for a cross-site request to ride on), and websocket subscriptions
    are refused. Outside production a GET asking for HTML is the GraphiQL page; in
    production there is none (405 like any GET). Those refusals answer
    ``{"errors": [{"message", "extensions": {"code", "status", "request_id"}}]}``. Every
    operation error passes :class:`ProblemErrors`' rules once more before the answer, so
    an error no extension saw is masked too. The routes stay out of the app's OpenAPI
    document.

    Args:
        schema: the Strawberry schema (build it with :func:`secure_extensions`).
        production: no GraphiQL page (decide it as ``settings.is_production``).
        context_getter: Strawberry's context getter (default: a dict with ``request``
            and ``response``).
        path: the endpoint's path.

    .. versionadded:: 0.7.0
    """
    return _SecureGraphQLRouter(
        schema,
        path=path,
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=False,
        context_getter=context_getter,
        subscription_protocols=(),
        multipart_uploads_enabled=False,
        # GraphQL documents itself (introspection, the published SDL): an OpenAPI entry
        # for the endpoint would describe nothing and add a method to generated clients.
        include_in_schema=False,
    )
