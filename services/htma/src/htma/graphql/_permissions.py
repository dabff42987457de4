"""Who may read what: the rules of the REST routes, as Strawberry field permissions.

REST decides in the routes (``htma.panels.router``): any member of the clinic reads one
panel and its result (patients: their own; the loaders filter), staff need
``panels:read`` to list the clinic's panels while patients list their own. The same
rules here, with spaps-auth's permission classes: a refusal is a GraphQL error carrying
REST's code (``auth.unauthenticated``, ``auth.forbidden``), and spaps-tenancy's
``TenantRequired`` fails closed without a clinic (``tenancy.tenant_missing``).
"""

from __future__ import annotations

from typing import Any

from spaps_auth import Principal, all_of, any_of, has_permission, is_owner
from spaps_auth.strawberry import Allows, IsAuthenticated
from spaps_tenancy import get_tenant
from spaps_tenancy.strawberry import TenantRequired
from strawberry.permission import PermissionExtension

from htma.clinics.roles import Role


def _patient(principal: Principal, _resource: Any) -> bool:
    return principal.has_role(Role.PATIENT.value)


def _the_request_clinic(_principal: Principal, clinic: Any) -> bool:
    # The source of Clinic.panels: a clinic is only ever read inside its own tenant.
    tenant = get_tenant()
    return tenant is not None and str(getattr(clinic, "id", "")) == tenant


def _guard(*permissions: Any) -> PermissionExtension:
    # No schema directives: the SDL describes the data, the errors describe the refusals.
    return PermissionExtension(permissions=list(permissions), use_directives=False)


#: Root fields: an authenticated caller inside a clinic (REST's ``CallerDep``).
MEMBER = _guard(IsAuthenticated(), TenantRequired())
#: ``Clinic.panels``: ``GET /v1/panels`` (staff with ``panels:read``, patients their own).
CAN_LIST_PANELS = _guard(
    TenantRequired(),
    Allows(all_of(_the_request_clinic, any_of(_patient, has_permission("panels:read")))),
)
#: ``Panel.result``: ``results:read`` for staff, ``results:read:own`` on one's own panel.
CAN_READ_RESULT = _guard(
    Allows(
        any_of(
            has_permission("results:read"),
            all_of(has_permission("results:read:own"), is_owner("patient_id")),
        )
    )
)
