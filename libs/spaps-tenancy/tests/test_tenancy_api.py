"""The public surface is pinned, and the README example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import spaps_tenancy
import spaps_tenancy.strawberry
from spaps_tenancy import (
    CrossTenantWriteError,
    RequestQuotaExceededError,
    SpapsTenancyError,
    TenantContextError,
    TenantInvalidError,
    TenantMissingError,
    TenantUnknownError,
    TransferError,
)

EXPECTED = [
    "AuditRecord",
    "AuditSink",
    "CounterStore",
    "CrossTenantWriteError",
    "DailyLimit",
    "DailyRequestQuota",
    "MemoryCounterStore",
    "Progress",
    "QuotaExceededError",
    "RedisCounterStore",
    "RequestQuotaExceededError",
    "RequestQuotaMiddleware",
    "RowLimit",
    "RowQuotaExceededError",
    "SessionTarget",
    "SpapsTenancyError",
    "TenantContextError",
    "TenantInvalidError",
    "TenantLookup",
    "TenantMiddleware",
    "TenantMissingError",
    "TenantResolutionError",
    "TenantResolver",
    "TenantScoped",
    "TenantSession",
    "TenantUnknownError",
    "TransferError",
    "bypass",
    "bypass_active",
    "claim_resolver",
    "current_tenant",
    "disable_rls",
    "enable_rls",
    "erase_tenant",
    "export_tenant",
    "first_of",
    "get_tenant",
    "header_resolver",
    "import_tenant",
    "install_rls",
    "install_row_quota",
    "install_tenant_filter",
    "log_audit_record",
    "plan_limits_override",
    "rls_statements",
    "set_tenant_setting",
    "subdomain_resolver",
    "tenant_context",
    "tenant_rate_limit_key",
    "tenant_tables",
]


def test_public_api_is_pinned() -> None:
    assert spaps_tenancy.__all__ == EXPECTED
    assert sorted(spaps_tenancy.__all__) == spaps_tenancy.__all__
    for name in EXPECTED:
        assert getattr(spaps_tenancy, name) is not None


def test_strawberry_exports_are_pinned() -> None:
    assert spaps_tenancy.strawberry.__all__ == ["TenantRequired", "TenantScope"]
    for name in spaps_tenancy.strawberry.__all__:
        doc = getattr(spaps_tenancy.strawberry, name).__doc__
        assert doc is not None
        assert ".. versionadded:: 0.3.0" in doc, name


def test_error_codes_are_unique_and_namespaced() -> None:
    errors = [
        obj
        for obj in vars(spaps_tenancy).values()
        if isinstance(obj, type) and issubclass(obj, SpapsTenancyError)
    ]
    codes = [error.code for error in errors]
    assert len(codes) == len(set(codes)) == 11
    assert all(re.fullmatch(r"tenancy\.[a-z_]+", code) for code in codes)
    statuses = {
        TenantMissingError: 400,
        TenantInvalidError: 400,
        TenantUnknownError: 404,
        TenantContextError: 500,
        CrossTenantWriteError: 403,
        RequestQuotaExceededError: 429,
        TransferError: 500,
    }
    for error, status in statuses.items():
        assert error.status == status
    assert TenantMissingError("x").detail == "x"
    assert str(TenantMissingError()) == "Tenant missing"


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    match = re.search(r"```python\n(.*?)```", readme, re.S)
    assert match is not None
    exec(compile(match.group(1), "README.md", "exec", dont_inherit=True), {"__name__": "readme"})  # noqa: S102  # running the documented example is the point
    assert capsys.readouterr().out == "refused: tenancy.no_tenant\n"
