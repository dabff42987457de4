"""Roles and the permissions each grants."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role in their clinic."""

    PATIENT = "patient"
    PRACTITIONER = "practitioner"
    LAB_ADMIN = "lab_admin"


#: role -> permissions (checked by ``spaps_auth`` dependencies on each route).
PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.PATIENT: ("results:read:own", "messages:send", "messages:read"),
    Role.PRACTITIONER: (
        "panels:write", "panels:read", "results:read", "patients:read",
        "messages:send", "messages:read",
    ),
    Role.LAB_ADMIN: ("panels:read", "results:read", "patients:read", "users:write", "clinic:admin"),
}  # fmt: skip
