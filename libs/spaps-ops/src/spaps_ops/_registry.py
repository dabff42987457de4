"""The error-code registry: every problem ``code`` an app can answer with, once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ._errors import DuplicateErrorCodeError


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One documented problem type.

    Args:
        code: stable machine-readable code, ``"<lib>.<snake_name>"``.
        status: the HTTP status it is answered with.
        title: short summary, identical for every occurrence.
        description: when it happens and what a client should do (for docs).
    """

    code: str
    status: int
    title: str
    description: str = ""

    @property
    def type_uri(self) -> str:
        """The problem ``type`` member: ``urn:spaps:problem:<code>``."""
        return PROBLEM_TYPE_PREFIX + self.code


PROBLEM_TYPE_PREFIX = "urn:spaps:problem:"

#: The codes spaps-ops itself answers with.
OPS_ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("ops.bad_request", 400, "Bad request", "The request was malformed."),
    ErrorCode("ops.not_found", 404, "Not found", "No resource at this path."),
    ErrorCode(
        "ops.method_not_allowed", 405, "Method not allowed", "The path exists, the method not."
    ),
    ErrorCode(
        "ops.validation_failed",
        422,
        "Validation failed",
        "The request did not match the schema; `errors` lists each field.",
    ),
    ErrorCode("ops.http_error", 400, "HTTP error", "Any other HTTP error; `status` tells which."),
    ErrorCode(
        "ops.internal_error",
        500,
        "Internal server error",
        "An unexpected error; quote `request_id` when reporting it.",
    ),
    ErrorCode(
        "ops.maintenance",
        503,
        "Service under maintenance",
        "Maintenance mode is on; retry after `Retry-After` seconds.",
    ),
    ErrorCode(
        "ops.not_ready",
        503,
        "Service not ready",
        "A readiness check failed; `failing_checks` names them.",
    ),
    ErrorCode(
        "ops.circuit_open",
        503,
        "Dependency unavailable",
        "A circuit breaker is open; retry after `Retry-After` seconds.",
    ),
    ErrorCode(
        "ops.database_unavailable",
        503,
        "Database unavailable",
        "The database is unreachable or did not answer within the configured bounds; "
        "retry after `Retry-After` seconds.",
    ),
    ErrorCode(
        "ops.invalid_host",
        400,
        "Invalid host header",
        "The `Host` header names none of the service's `allowed_hosts`.",
    ),
    ErrorCode(
        "ops.body_too_large",
        413,
        "Request body too large",
        "The body is over `max_body_size` bytes (`max_body_size` says how many).",
    ),
    ErrorCode(
        "ops.body_timeout",
        408,
        "Request body timeout",
        "The body did not arrive within `body_read_timeout` seconds.",
    ),
    ErrorCode(
        "ops.stale_write",
        409,
        "Conflicting update",
        "Optimistic-lock conflict: reload the resource and retry.",
    ),
    # GraphQL (spaps_ops.strawberry): the codes of operations refused before they ran.
    ErrorCode(
        "graphql.invalid",
        400,
        "Invalid GraphQL request",
        "The operation does not parse or validate against the schema, or the request is "
        "not one GraphQL operation in a JSON object (a batch, a missing query); the "
        "message says what is wrong.",
    ),
    ErrorCode(
        "graphql.too_deep",
        400,
        "GraphQL operation too deep",
        "The operation nests fields deeper than the schema allows; ask for less at once.",
    ),
    ErrorCode(
        "graphql.too_many_aliases",
        400,
        "Too many GraphQL aliases",
        "The document aliases more fields than the schema allows; split the operation.",
    ),
    ErrorCode(
        "graphql.too_many_tokens",
        400,
        "GraphQL document too large",
        "The document holds more tokens than the schema allows; send a smaller one.",
    ),
    ErrorCode(
        "graphql.introspection_disabled",
        400,
        "GraphQL introspection disabled",
        "Introspection (`__schema`, `__type`) is off in production; use the published SDL.",
    ),
)


class ErrorRegistry:
    """A set of error codes where each code appears once.

    Args:
        codes: initial codes (duplicates raise like :meth:`register`).
    """

    def __init__(self, codes: Iterable[ErrorCode] = ()) -> None:
        self._codes: dict[str, ErrorCode] = {}
        for item in codes:
            self.add(item)

    def add(self, item: ErrorCode) -> ErrorCode:
        """Add a code.

        Args:
            item: the code to add.

        Raises:
            DuplicateErrorCodeError: ``item.code`` is already registered.
        """
        if not isinstance(item, ErrorCode):
            raise TypeError(f"expected ErrorCode, got {type(item).__name__}")
        if item.code in self._codes:
            raise DuplicateErrorCodeError(f"error code {item.code!r} is already registered")
        self._codes[item.code] = item
        return item

    def register(self, code: str, *, status: int, title: str, description: str = "") -> ErrorCode:
        """Register a code.

        Args:
            code: the code, ``"<lib>.<snake_name>"``.
            status: HTTP status.
            title: short summary.
            description: documentation text.
        """
        return self.add(ErrorCode(code, status, title, description))

    def register_exception(self, exc_type: type[BaseException], description: str = "") -> ErrorCode:
        """Register the code an exception class carries as class attributes.

        Args:
            exc_type: a class with ``status``, ``code`` and ``title`` class attributes
                (the problem protocol other spaps libraries follow).
            description: documentation text (default: the class docstring's first line).
        """
        try:
            status, code, title = exc_type.status, exc_type.code, exc_type.title  # type: ignore[attr-defined]  # protocol read by duck typing
        except AttributeError as exc:
            raise TypeError(f"{exc_type.__name__} lacks status/code/title attributes") from exc
        if not description:
            lines = (exc_type.__doc__ or "").strip().splitlines()
            description = lines[0] if lines else ""
        return self.register(code, status=status, title=title, description=description)

    def get(self, code: str) -> ErrorCode | None:
        """The registered entry for ``code``, or ``None``."""
        return self._codes.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._codes

    def __iter__(self) -> Iterator[ErrorCode]:
        return iter(sorted(self._codes.values(), key=lambda c: c.code))

    def __len__(self) -> int:
        return len(self._codes)

    def to_markdown(self) -> str:
        """A Markdown table of every code, sorted, for docs."""
        lines = ["| code | status | title | description |", "|---|---|---|---|"]
        lines += [f"| `{c.code}` | {c.status} | {c.title} | {c.description} |" for c in self]
        return "\n".join(lines) + "\n"
