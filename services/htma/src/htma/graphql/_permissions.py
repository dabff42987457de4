"""Who may read what: the rules of the REST routes, as field permissions."""

from __future__ import annotations

from typing import Any

from spaps_auth import PermissionDeniedError
from strawberry.permission import BasePermission, PermissionExtension


class _RestRule(BasePermission):
    """Placeholder until spaps_auth.strawberry ships its permission classes."""

    def __init__(self, *permissions: str, patient_ok: bool = False) -> None:
        self.permissions = permissions
        self.patient_ok = patient_ok

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        caller = info.context.require_caller()
        if not self.permissions or (self.patient_ok and caller.role == "patient"):
            return True
        if any(caller.principal.has_permission(p) for p in self.permissions):
            return True
        raise PermissionDeniedError(f"the {caller.role.value} role lacks {self.permissions!r}")


CAN_LIST_PANELS = PermissionExtension(permissions=[_RestRule("panels:read", patient_ok=True)])
CAN_READ_RESULT = PermissionExtension(
    permissions=[_RestRule("results:read", "results:read:own")]
)
AUTHENTICATED = PermissionExtension(permissions=[_RestRule(patient_ok=True)])
