"""One-line failures for a service's database commands (``migrate``, imports, admin
accounts): what the command line shows instead of a traceback."""

from __future__ import annotations

from types import TracebackType

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ._db_migrations import MigrationsPendingError


def describe_failure(exc: BaseException) -> str:
    """The one line that tells a person what went wrong in a database command."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}"
    if isinstance(exc, SQLAlchemyError):
        # The driver's own message (``orig``) names the cause; its first line suffices.
        return f"database error: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}"
    if isinstance(exc, OSError):
        # e.g. "ConnectionRefusedError: [Errno 111] ...": the errno alone says little.
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


class CommandErrors:
    """Context manager around a command's work: a failure of a known kind exits with one
    line ``error: ...`` on stderr and status 1 (click's convention for a failed
    operation; 2 stays for bad usage) instead of a traceback.

    Known: invalid settings (pydantic's ``ValidationError``, naming the first field),
    database errors (SQLAlchemy's, with the first line of the driver's message),
    :class:`MigrationsPendingError`, unreachable servers and unreadable files
    (``OSError``), and the ``kinds`` given (their message as it is). Anything else is a
    bug and keeps its traceback::

        def _run(coroutine):
            with CommandErrors(ServiceError):
                return asyncio.run(coroutine)

    Args:
        kinds: the service's own exception types whose message is meant for people.

    .. versionadded:: 0.2.0
    """

    def __init__(self, *kinds: type[BaseException]) -> None:
        for kind in kinds:
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):
                raise TypeError(f"kinds must be exception types, got {kind!r}")
        self.kinds = (
            ValidationError,
            SQLAlchemyError,
            MigrationsPendingError,
            OSError,
            *kinds,
        )

    def __enter__(self) -> CommandErrors:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None and isinstance(exc, self.kinds):
            raise SystemExit(f"error: {describe_failure(exc)}") from None
