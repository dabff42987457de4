"""The public surface is pinned; optional extras stay out of the package root."""

from __future__ import annotations

import subprocess
import sys

import pytest
import spaps_ops
import spaps_ops.db
import spaps_ops.tracing


def test_root_exports_are_pinned() -> None:
    assert spaps_ops.__all__ == [
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
    assert sorted(spaps_ops.__all__) == spaps_ops.__all__
    for name in spaps_ops.__all__:
        assert getattr(spaps_ops, name) is not None


def test_db_and_tracing_exports_are_pinned() -> None:
    assert spaps_ops.db.__all__ == [
        "CommandErrors",
        "Database",
        "DatabaseOutageMiddleware",
        "DatabaseUnavailableError",
        "INCLUDE_DELETED",
        "MigrationStatus",
        "Migrations",
        "MigrationsPendingError",
        "NAMING_CONVENTION",
        "OpsSession",
        "SessionDep",
        "SoftDeleteMixin",
        "VersionedMixin",
        "async_url",
        "downgrade_database",
        "get_database",
        "get_session",
        "is_database_outage",
        "migration_check",
        "migration_status",
        "new_metadata",
        "open_engine",
        "session_scope",
        "sync_url",
        "upgrade_database",
        "use_database",
    ]
    assert spaps_ops.tracing.__all__ == ["TracingMiddleware"]


def test_package_root_imports_neither_db_nor_tracing_modules() -> None:
    # (FastAPI itself may import the OpenTelemetry API; the SDK and our module must not be.)
    code = (
        "import sys, spaps_ops\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'alembic'} "
        "or m.startswith(('opentelemetry.sdk', 'spaps_ops.tracing', 'spaps_ops.db'))]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""


def test_strawberry_exports_are_pinned() -> None:
    pytest.importorskip(
        "strawberry", reason="not applicable: the strawberry extra is not installed"
    )
    import spaps_ops.strawberry  # noqa: PLC0415  # needs the extra

    assert spaps_ops.strawberry.__all__ == [
        "ContextGetter",
        "ExtensionFactory",
        "ProblemErrors",
        "graphql_router",
        "secure_extensions",
    ]
    for name in spaps_ops.strawberry.__all__:
        assert getattr(spaps_ops.strawberry, name) is not None
