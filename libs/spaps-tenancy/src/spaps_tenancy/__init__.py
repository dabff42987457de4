"""spaps-tenancy: tenant isolation that cannot be forgotten.

Resolve the tenant of each request, keep it in a context variable, filter and stamp
every ORM query automatically, add PostgreSQL row-level security as a second wall, and
export, erase or import one tenant's data.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from ._audit import AuditRecord, AuditSink, log_audit_record
from ._bypass import bypass, bypass_active
from ._context import current_tenant, get_tenant, tenant_context
from ._errors import (
    CrossTenantWriteError,
    QuotaExceededError,
    RequestQuotaExceededError,
    RowQuotaExceededError,
    SpapsTenancyError,
    TenantContextError,
    TenantInvalidError,
    TenantMissingError,
    TenantResolutionError,
    TenantUnknownError,
    TransferError,
)
from ._middleware import TenantLookup, TenantMiddleware
from ._orm import SessionTarget, TenantScoped, TenantSession, install_tenant_filter
from ._ratelimit import plan_limits_override, tenant_rate_limit_key
from ._request_quota import (
    CounterStore,
    DailyLimit,
    DailyRequestQuota,
    MemoryCounterStore,
    RedisCounterStore,
    RequestQuotaMiddleware,
)
from ._resolvers import (
    TenantResolver,
    claim_resolver,
    first_of,
    header_resolver,
    subdomain_resolver,
)
from ._rls import disable_rls, enable_rls, install_rls, rls_statements, set_tenant_setting
from ._row_quota import RowLimit, install_row_quota
from ._transfer import Progress, erase_tenant, export_tenant, import_tenant, tenant_tables

__version__ = _version("spaps-tenancy")

__all__ = [
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
