"""spaps-ops: the app shell for FastAPI services.

Settings, ``create_app`` with lifespan and resources, pure-ASGI middlewares (request id,
access log, security headers, strict CORS, metrics, maintenance), RFC 9457 problem+json,
probes, Prometheus metrics and a circuit breaker. Database helpers live in
:mod:`spaps_ops.db` (``db`` extra) and tracing in :mod:`spaps_ops.tracing` (``otel``).
"""

from ._access_log import AccessLogMiddleware
from ._app import create_app
from ._body_limit import BodyLimitMiddleware, BodyTimeoutError, BodyTooLargeError
from ._breaker import BreakerState, CircuitBreaker
from ._cors import StrictCORSMiddleware
from ._deprecation import Deprecation, deprecated
from ._error_audit import ErrorCodeAuditMiddleware
from ._errors import (
    CircuitOpenError,
    ConfigurationError,
    DuplicateErrorCodeError,
    InsecureSettingsError,
    OpsNotConfiguredError,
    ProblemError,
    SpapsOpsError,
    StaleWriteError,
    UnregisteredErrorCodeError,
)
from ._health import CheckResult, HealthCheck
from ._logging import configure_logging
from ._maintenance import MaintenanceMiddleware, MaintenanceSwitch
from ._metrics import HttpMetrics, MetricsMiddleware
from ._openapi import (
    document_problems,
    merge_problem_entry,
    openapi_problem,
    share_problem_schemas,
)
from ._problem import (
    ProblemLike,
    ProblemMiddleware,
    install_problem_handlers,
    is_problem,
    problem_response,
)
from ._problem_docs import error_codes_of, problem_responses
from ._registry import OPS_ERROR_CODES, ErrorCode, ErrorRegistry
from ._request_id import RequestIdMiddleware, forward_request_id, get_request_id
from ._security_headers import SecurityHeadersMiddleware
from ._server import server_options
from ._settings import OpsSettings
from ._state import LifespanHook, Ops, get_ops
from ._trusted_host import InvalidHostError, TrustedHostMiddleware

__all__ = [
    "AccessLogMiddleware",
    "BodyLimitMiddleware",
    "BodyTimeoutError",
    "BodyTooLargeError",
    "BreakerState",
    "CheckResult",
    "CircuitBreaker",
    "CircuitOpenError",
    "ConfigurationError",
    "Deprecation",
    "DuplicateErrorCodeError",
    "ErrorCode",
    "ErrorCodeAuditMiddleware",
    "ErrorRegistry",
    "HealthCheck",
    "HttpMetrics",
    "InsecureSettingsError",
    "InvalidHostError",
    "LifespanHook",
    "MaintenanceMiddleware",
    "MaintenanceSwitch",
    "MetricsMiddleware",
    "OPS_ERROR_CODES",
    "Ops",
    "OpsNotConfiguredError",
    "OpsSettings",
    "ProblemError",
    "ProblemLike",
    "ProblemMiddleware",
    "RequestIdMiddleware",
    "SecurityHeadersMiddleware",
    "SpapsOpsError",
    "StaleWriteError",
    "StrictCORSMiddleware",
    "TrustedHostMiddleware",
    "UnregisteredErrorCodeError",
    "configure_logging",
    "create_app",
    "deprecated",
    "document_problems",
    "error_codes_of",
    "forward_request_id",
    "get_ops",
    "get_request_id",
    "install_problem_handlers",
    "is_problem",
    "merge_problem_entry",
    "openapi_problem",
    "problem_response",
    "problem_responses",
    "server_options",
    "share_problem_schemas",
]
