"""Exceptions raised by spaps-ops.

The tree::

    SpapsOpsError
    ├── ConfigurationError (also ValueError)      invalid or unsafe configuration
    │   └── InsecureSettingsError                  production settings that must not run
    ├── DuplicateErrorCodeError (also ValueError)  an error code registered twice
    ├── OpsNotConfiguredError (also RuntimeError)  app state read before create_app set it
    ├── UnregisteredErrorCodeError (also RuntimeError)  a problem answer whose code the
    │                                              app's registry lacks (or whose status differs)
    └── ProblemError                               an HTTP problem (status, code, title)
        ├── CircuitOpenError                       503: a circuit breaker is open
        └── StaleWriteError                        409: optimistic-lock conflict

``ProblemError`` is only a convenience: spaps-ops renders *any* exception that carries
``status``, ``code`` and ``title`` attributes (see :class:`spaps_ops.ProblemLike`), so
other libraries define their own roots and never import this module.
"""

from __future__ import annotations

from collections.abc import Mapping


class SpapsOpsError(Exception):
    """Root of every exception spaps-ops raises."""


class ConfigurationError(SpapsOpsError, ValueError):
    """Configuration is invalid."""


class InsecureSettingsError(ConfigurationError):
    """Production settings that must not start; names every offending field at once.

    Args:
        problems: mapping of field name to why it is refused.
    """

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.fields: tuple[str, ...] = tuple(problems)
        self.problems: dict[str, str] = dict(problems)
        listing = "; ".join(f"{name}: {why}" for name, why in self.problems.items())
        super().__init__(f"refusing to start in production, insecure settings: {listing}")


class DuplicateErrorCodeError(SpapsOpsError, ValueError):
    """An error code was registered twice."""


class OpsNotConfiguredError(SpapsOpsError, RuntimeError):
    """The app was not built by ``create_app`` (or a resource was not installed)."""


class UnregisteredErrorCodeError(SpapsOpsError, RuntimeError):
    """A problem answer carries a code the app's registry lacks, or another status.

    Raised by the error-code audit (``create_app(strict_error_codes=True)``) instead of
    sending the answer, so the test that provoked it fails naming the code.

    Args:
        code: the answer's ``code`` (``None``: it had none).
        status: the answer's HTTP status.
        reason: what is wrong.

    .. versionadded:: 0.4.0
    """

    def __init__(self, code: str | None, status: int, reason: str) -> None:
        self.code = code
        self.status = status
        self.reason = reason
        super().__init__(f"problem answer {status} {code!r}: {reason} (see docs/errors.md)")


class ProblemError(SpapsOpsError):
    """An error rendered as RFC 9457 problem+json.

    Args:
        status: HTTP status code.
        code: stable, unique machine-readable code, e.g. ``"orders.out_of_stock"``.
        title: short human-readable summary, the same for every occurrence of ``code``.
        detail: explanation specific to this occurrence.
        headers: extra response headers (e.g. ``Retry-After``).
        extensions: extra members of the problem body.
    """

    def __init__(
        self,
        *,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"status must be an int in 400..599, got {status!r}")
        if not code or not isinstance(code, str):
            raise ValueError("code must be a non-empty string")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extensions = extensions
        super().__init__(detail or title)


class CircuitOpenError(ProblemError):
    """Raised instead of calling through an open circuit breaker (503).

    Args:
        name: the breaker's name.
        retry_after: seconds until the breaker lets a trial call through.
    """

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        seconds = max(1, round(retry_after))
        super().__init__(
            status=503,
            code="ops.circuit_open",
            title="Dependency unavailable",
            detail=f"circuit {name!r} is open",
            headers={"Retry-After": str(seconds)},
            extensions={"circuit": name},
        )


class StaleWriteError(ProblemError):
    """Optimistic-lock conflict: the row changed since it was read (409).

    Args:
        detail: what was being written.
    """

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            status=409,
            code="ops.stale_write",
            title="Conflicting update",
            detail=detail or "the resource was changed by someone else; reload and retry",
        )
