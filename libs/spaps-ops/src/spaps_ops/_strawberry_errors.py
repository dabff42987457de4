"""ProblemErrors: every GraphQL error carries a registered ``code``, its ``status`` and the
request id, like a problem+json answer; anything unexpected is masked and logged."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import suppress
from typing import Any

import structlog
from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from ._errors import OpsNotConfiguredError
from ._problem import is_problem
from ._registry import OPS_ERROR_CODES, ErrorRegistry
from ._request_id import get_request_id
from ._state import get_ops

INTERNAL_CODE = "ops.internal_error"
INTERNAL_MESSAGE = "Internal server error"
INVALID_CODE = "graphql.invalid"

# How graphql-core and Strawberry word the refusals of the limiters and of
# DisableIntrospection: their errors carry no code of their own, so the wording is all
# there is to tell them apart (a test pins each pattern against the installed versions).
_REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"exceeds maximum operation depth of \d+"), "graphql.too_deep"),
    (re.compile(r"\b\d+ aliases found\. Allowed: \d+"), "graphql.too_many_aliases"),
    (re.compile(r"Document contains more than \d+ tokens"), "graphql.too_many_tokens"),
    (re.compile(r"introspection has been disabled", re.I), "graphql.introspection_disabled"),
)
_OPS_CODES = ErrorRegistry(OPS_ERROR_CODES)


def _member(context: object, name: str) -> Any:
    """``context[name]`` for Strawberry's default dict context, else ``context.name``."""
    if isinstance(context, Mapping):
        return context.get(name)
    return getattr(context, name, None)


def _underlying(error: GraphQLError) -> BaseException | None:
    """The exception a resolver raised, past graphql-core's re-wrapping of GraphQLErrors."""
    exc = error.original_error
    while isinstance(exc, GraphQLError) and exc.original_error is not None:
        exc = exc.original_error
    return exc


def refusal_code(message: str) -> str:
    """The code of a validation or syntax error: a limiter's refusal, or ``graphql.invalid``.

    Args:
        message: the GraphQL error's message.
    """
    for pattern, code in _REFUSALS:
        if pattern.search(message):
            return code
    return INVALID_CODE


def _status_of(code: str, request: object) -> int:
    """The registered status of ``code``: the app's registry, else spaps-ops', else 400."""
    registry = _OPS_CODES
    if isinstance(request, HTTPConnection):
        with suppress(OpsNotConfiguredError):  # an app not built by create_app
            registry = get_ops(request).errors
    entry = registry.get(code)
    return entry.status if entry is not None else 400


def recode(error: GraphQLError, *, context: object, operation: str | None = None) -> GraphQLError:
    """``error`` as the client sees it: with ``code``, ``status`` and ``request_id``, masked
    (and logged) when unexpected; the rules of :class:`ProblemErrors`.

    Args:
        error: the error execution, validation or an extension produced.
        context: the operation's context (its ``request`` finds the app's registry).
        operation: the operation's name, for the log line.
    """
    request = _member(context, "request")
    exc = _underlying(error)
    extensions: dict[str, Any] = dict(error.extensions or {})
    message, original = error.message, error.original_error
    if exc is not None and is_problem(exc):
        code, status = exc.code, exc.status  # type: ignore[attr-defined]  # is_problem
        own = getattr(exc, "extensions", None)
        extensions = {**own, **extensions} if isinstance(own, Mapping) else extensions
    elif isinstance(extensions.get("code"), str):
        code = extensions["code"]
        given = extensions.get("status")
        status = given if isinstance(given, int) else _status_of(code, request)
    elif exc is None or isinstance(exc, GraphQLError):
        code, status = refusal_code(message), 400
    else:
        path = ".".join(str(part) for part in error.path or ())
        # A fresh proxy each time (errors are rare): a module-level one would keep the
        # logging configuration of its first use (cache_logger_on_first_use).
        log = structlog.get_logger("spaps.errors")
        log.error("graphql_unhandled_exception", exc_info=exc, path=path, operation=operation)
        code, status, message, original, extensions = INTERNAL_CODE, 500, INTERNAL_MESSAGE, None, {}
    request_id = get_request_id()
    if request_id is None and isinstance(request, HTTPConnection):
        request_id = getattr(request.state, "request_id", None)
    extensions.update(code=code, status=status, request_id=request_id)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )


def _answer_status(context: object, status: object) -> None:
    """Set the HTTP status of a refused operation on the context's response.

    FastAPI's sub-response starts with ``status_code`` None: only fill it in, so a status
    another extension chose (a rate limiter's 429) stands.
    """
    response = _member(context, "response")
    unset = getattr(response, "status_code", None) is None
    if isinstance(response, Response) and unset and isinstance(status, int):
        response.status_code = status


# Raised by Strawberry inside the operation and turned into HTTP 400s by its view.
_TRANSPORT_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class ProblemErrors(MaskErrors):
    """A schema extension giving every error ``extensions.code``, ``status`` and ``request_id``.

    * an exception carrying ``status``, ``code`` and ``title`` (any spaps library's error,
      :class:`spaps_ops.ProblemError`) keeps its code and status; its message is its
      ``detail`` or ``title`` and its own ``extensions`` members are kept;
    * an error that already has ``extensions.code`` (a permission class's) keeps it; its
      status is the one the app's error registry lists (400 when unlisted);
    * a syntax or validation error (or a ``GraphQLError`` raised on purpose) gets
      ``graphql.invalid``, or ``graphql.too_deep``, ``graphql.too_many_aliases``,
      ``graphql.too_many_tokens`` or ``graphql.introspection_disabled`` when a limiter or
      :class:`~strawberry.extensions.DisableIntrospection` refused the operation (400);
    * anything else is masked: message ``"Internal server error"``, code
      ``ops.internal_error``, status 500, nothing of the exception in the answer; it is
      logged with its traceback (event ``graphql_unhandled_exception``, logger
      ``spaps.errors``, the request id bound).

    This covers the errors of resolvers, of parsing and validation, and the exceptions
    other extensions' hooks raise while the operation runs (a store that is down).

    An operation refused before it ran (``data`` is null, no error has a ``path``) answers
    with the HTTP status of its first error (400 for the refusals above), unless something
    else already chose one (a rate limiter's 429); an operation that ran answers 200 with
    its ``errors``, as GraphQL over HTTP expects.

    .. versionadded:: 0.7.0
    """

    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The error as the client sees it (every error passes here, masked or not).

        Args:
            error: the error execution or validation produced.
        """
        context = self.execution_context
        return recode(error, context=context.context, operation=context.operation_name)

    def on_operation(self) -> Iterator[None]:
        """Recode the errors (as :class:`MaskErrors` does), then choose the HTTP status."""
        context = self.execution_context
        try:
            yield from super().on_operation()
        except _TRANSPORT_ERRORS:
            raise
        except Exception as exc:
            # Another extension's hook raised: Strawberry answers it with the exception's
            # message, past MaskErrors. Hand it the recoded error instead (a GraphQLError
            # it keeps as it is).
            given = (
                exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            )
            error = recode(given, context=context.context, operation=context.operation_name)
            _answer_status(context.context, (error.extensions or {}).get("status"))
            raise error from exc
        result = context.result
        errors = getattr(result, "errors", None)
        if not errors or getattr(result, "data", None) is not None:
            return
        if any(error.path is not None for error in errors):
            return  # the operation ran: GraphQL over HTTP answers 200 with the errors
        _answer_status(context.context, (errors[0].extensions or {}).get("status"))
