"""Principals, the permission registry (RBAC) and resource predicates (ABAC)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import PermissionDeniedError

__all__ = [
    "PermissionRegistry",
    "Predicate",
    "Principal",
    "all_of",
    "any_of",
    "authorize",
    "has_permission",
    "is_owner",
    "same_organisation",
]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (bearer token) or an API key.

    Args:
        subject: User or service id.
        roles: Roles held.
        permissions: Effective permissions (direct grants plus those of the roles).
        session_id: Session of the access token, if any.
        org_id: Organisation the caller acts for, if any (``org`` claim).
        auth_method: ``"bearer"`` or ``"api_key"``.
        claims: The raw token claims (empty for API keys).
    """

    subject: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    session_id: str | None = None
    org_id: str | None = None
    auth_method: str = "bearer"
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def has_role(self, role: str) -> bool:
        """Whether the principal holds ``role``."""
        return role in self.roles

    def has_permission(self, permission: str) -> bool:
        """Whether the principal has ``permission``."""
        return permission in self.permissions


class PermissionRegistry:
    """Declares permissions and roles, and expands roles into permissions.

    Permissions must be registered before a role can grant them, so a typo fails at
    start-up rather than silently granting nothing.

    .. versionadded:: 0.1.0
    """

    def __init__(self) -> None:
        self._permissions: dict[str, str] = {}
        self._roles: dict[str, frozenset[str]] = {}

    def permission(self, name: str, description: str = "") -> str:
        """Register a permission (``"resource:action"`` by convention); returns ``name``."""
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"invalid permission name {name!r}")
        self._permissions[name] = description
        return name

    def role(
        self, name: str, permissions: Iterable[str] = (), *, inherits: Iterable[str] = ()
    ) -> str:
        """Register a role granting ``permissions`` plus those of the ``inherits`` roles.

        Raises:
            ValueError: An unknown permission or parent role.
        """
        granted = set(permissions)
        unknown = granted - self._permissions.keys()
        if unknown:
            raise ValueError(f"role {name!r} grants unregistered permissions {sorted(unknown)}")
        for parent in inherits:
            if parent not in self._roles:
                raise ValueError(f"role {name!r} inherits unknown role {parent!r}")
            granted |= self._roles[parent]
        self._roles[name] = frozenset(granted)
        return name

    @property
    def permissions(self) -> Mapping[str, str]:
        """Registered permissions and their descriptions."""
        return dict(self._permissions)

    @property
    def roles(self) -> Mapping[str, frozenset[str]]:
        """Registered roles and their effective permissions."""
        return dict(self._roles)

    def permissions_for(self, roles: Iterable[str]) -> frozenset[str]:
        """Effective permissions of ``roles`` (unknown roles grant nothing)."""
        granted: set[str] = set()
        for role in roles:
            granted |= self._roles.get(role, frozenset())
        return frozenset(granted)


Predicate = Callable[[Principal, Any], bool]
"""An ABAC rule: given the principal and the resource, is access allowed?"""


def _attr(resource: Any, name: str) -> Any:
    if isinstance(resource, Mapping):
        return resource.get(name)
    return getattr(resource, name, None)


def is_owner(attribute: str = "owner_id") -> Predicate:
    """Allow when ``resource.<attribute>`` equals the principal's subject."""

    def predicate(principal: Principal, resource: Any) -> bool:
        return bool(_attr(resource, attribute) == principal.subject)

    return predicate


def same_organisation(attribute: str = "org_id") -> Predicate:
    """Allow when ``resource.<attribute>`` equals the principal's organisation."""

    def predicate(principal: Principal, resource: Any) -> bool:
        return principal.org_id is not None and _attr(resource, attribute) == principal.org_id

    return predicate


def has_permission(permission: str) -> Predicate:
    """Allow when the principal has ``permission`` (whatever the resource)."""

    def predicate(principal: Principal, resource: Any) -> bool:
        return principal.has_permission(permission)

    return predicate


def any_of(*predicates: Predicate) -> Predicate:
    """Allow when at least one predicate allows."""

    def predicate(principal: Principal, resource: Any) -> bool:
        return any(p(principal, resource) for p in predicates)

    return predicate


def all_of(*predicates: Predicate) -> Predicate:
    """Allow when every predicate allows."""

    def predicate(principal: Principal, resource: Any) -> bool:
        return all(p(principal, resource) for p in predicates)

    return predicate


def authorize(principal: Principal, resource: Any, predicate: Predicate) -> None:
    """Raise :class:`PermissionDeniedError` unless ``predicate`` allows access.

    Args:
        principal: The caller.
        resource: The object acted on (mapping or object with attributes).
        predicate: The rule.
    """
    if not predicate(principal, resource):
        raise PermissionDeniedError("not allowed on this resource")
