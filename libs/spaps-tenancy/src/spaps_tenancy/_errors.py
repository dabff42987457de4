"""Exceptions of spaps-tenancy.

Every error derives from :class:`SpapsTenancyError`. Errors that map to an HTTP answer
carry ``status``, ``code``, ``title`` (and optionally ``detail``, ``headers``,
``extensions``) so any problem+json renderer can show them without importing this
library::

    SpapsTenancyError
    ├── TenantResolutionError          400  a request did not name a usable tenant
    │   ├── TenantMissingError         400  tenancy.tenant_missing
    │   ├── TenantInvalidError         400  tenancy.tenant_invalid
    │   └── TenantUnknownError         404  tenancy.tenant_unknown
    ├── TenantContextError             500  tenancy.no_tenant (no tenant in context)
    ├── CrossTenantWriteError          403  tenancy.cross_tenant_write
    ├── QuotaExceededError
    │   ├── RowQuotaExceededError      403  tenancy.row_quota_exceeded
    │   └── RequestQuotaExceededError  429  tenancy.request_quota_exceeded
    └── TransferError                  500  tenancy.transfer_failed (export/erase/import)
"""

from __future__ import annotations

from collections.abc import Mapping


class SpapsTenancyError(Exception):
    """Root of every error raised by spaps-tenancy.

    Args:
        detail: A human-readable explanation of this occurrence.
        headers: Extra HTTP headers for the answer (e.g. ``Retry-After``).
        extensions: Extra problem+json members.
    """

    status: int = 500
    code: str = "tenancy.error"
    title: str = "Tenancy error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


class TenantResolutionError(SpapsTenancyError):
    """The request did not identify a tenant the service serves."""

    status = 400
    code = "tenancy.tenant_unresolved"
    title = "Tenant could not be resolved"


class TenantMissingError(TenantResolutionError):
    """No resolver found a tenant in the request."""

    status = 400
    code = "tenancy.tenant_missing"
    title = "Tenant missing"


class TenantInvalidError(TenantResolutionError):
    """A tenant identifier was present but malformed."""

    status = 400
    code = "tenancy.tenant_invalid"
    title = "Tenant identifier invalid"


class TenantUnknownError(TenantResolutionError):
    """The tenant identifier is well formed but names no known tenant."""

    status = 404
    code = "tenancy.tenant_unknown"
    title = "Tenant not found"


class TenantContextError(SpapsTenancyError):
    """Tenant-scoped data was touched while no tenant was set (and no bypass was active)."""

    status = 500
    code = "tenancy.no_tenant"
    title = "No tenant in context"


class CrossTenantWriteError(SpapsTenancyError):
    """A flush would write a row that belongs to another tenant."""

    status = 403
    code = "tenancy.cross_tenant_write"
    title = "Write to another tenant's data refused"


class QuotaExceededError(SpapsTenancyError):
    """A per-tenant quota is used up."""

    status = 403
    code = "tenancy.quota_exceeded"
    title = "Quota exceeded"


class RowQuotaExceededError(QuotaExceededError):
    """Storing more rows of a model than the tenant's plan allows."""

    status = 403
    code = "tenancy.row_quota_exceeded"
    title = "Row quota exceeded"


class RequestQuotaExceededError(QuotaExceededError):
    """The tenant used up its requests for the day."""

    status = 429
    code = "tenancy.request_quota_exceeded"
    title = "Daily request quota exceeded"


class TransferError(SpapsTenancyError):
    """An export, erasure or import could not be carried out."""

    status = 500
    code = "tenancy.transfer_failed"
    title = "Tenant transfer failed"
