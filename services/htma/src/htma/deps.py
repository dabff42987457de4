"""Request dependencies: settings, auth stack, tenant-filtered sessions and the caller.

The app's middleware did the work before routing: spaps-auth's
``AuthenticationMiddleware`` verified the bearer token once (``request.state.principal``)
and spaps-tenancy's ``TenantMiddleware`` entered the clinic named by its ``clinic``
claim, so every query on a tenant-scoped model is filtered to that clinic and every
insert stamped with it. ``CallerDep`` only reads what they set; it verifies nothing again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from spaps_auth import PermissionDeniedError, Principal
from spaps_auth.fastapi import CurrentPrincipal
from spaps_ops import get_ops
from spaps_ops.db import session_scope
from spaps_tenancy import get_tenant
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from htma.clinics.roles import Role
from htma.identity.stack import AuthStack
from htma.messaging.cipher import MessageCipher
from htma.settings import Settings

if TYPE_CHECKING:
    from htma.panels.models import Panel
    from htma.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user of a request."""

    user_id: str
    clinic: str
    role: Role
    principal: Principal

    def require(self, permission: str) -> None:
        """Raise 403 unless the caller's role grants ``permission``."""
        if not self.principal.has_permission(permission):
            raise PermissionDeniedError(f"the {self.role.value} role lacks {permission!r}")


#: Runs in the submitting transaction (e.g. writes an outbox row).
PanelHook = Callable[[AsyncSession, "Panel"], Awaitable[None]]
#: Runs after the submitting transaction committed (e.g. computes inline).
AfterCommitHook = Callable[["Panel"], Awaitable[None]]


async def no_hook(*_args: object) -> None:
    """A hook that does nothing."""


@dataclass(frozen=True, slots=True)
class Services:
    """What the app factory builds once and the routes share (``app.state.htma``).

    Args:
        settings: the settings.
        auth: the spaps-auth stack.
        sessions: tenant-filtered session factory.
        cipher: message encryption.
        runtime: webhooks and the ingredient client.
        submitted: hook run in the panel's transaction.
        after_commit: hook run once the panel is committed.
    """

    settings: Settings
    auth: AuthStack
    sessions: async_sessionmaker[AsyncSession]
    cipher: MessageCipher
    runtime: Runtime
    submitted: PanelHook = no_hook
    after_commit: AfterCommitHook = no_hook


def get_services(request: Request) -> Services:
    """The :class:`Services` of this app; fails loudly when the lifespan did not run."""
    services = getattr(request.app.state, "htma", None)
    if not isinstance(services, Services):
        raise RuntimeError("htma services are not set up: run the app through its lifespan")
    return services


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings = get_ops(request).settings
    if not isinstance(settings, Settings):
        raise TypeError("the app was not built by htma.create_app")
    return settings


async def get_caller(principal: CurrentPrincipal) -> Caller:
    """The caller: the principal and clinic the middleware found (the request already runs
    inside that clinic)."""
    clinic = get_tenant()
    role = next(iter(principal.roles), None)
    if clinic is None or role not in {r.value for r in Role}:
        raise PermissionDeniedError("the token carries no clinic or role")
    return Caller(principal.subject, clinic, Role(role), principal)


async def get_session(
    caller: Annotated[Caller, Depends(get_caller)], request: Request
) -> AsyncIterator[AsyncSession]:
    """A tenant-filtered session for an authenticated request (an outage answers 503; an
    error while closing it is logged, never raised: ``spaps_ops.db.session_scope``)."""
    async with session_scope(get_services(request).sessions) as session:
        yield session


async def get_public_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for unauthenticated routes (sign-up, login): no tenant is set."""
    async with session_scope(get_services(request).sessions) as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[Caller, Depends(get_caller)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PublicSessionDep = Annotated[AsyncSession, Depends(get_public_session)]


def webhook_owner(caller: CallerDep) -> str:
    """Owner of webhook endpoints: the caller's clinic; only lab admins manage them."""
    caller.require("clinic:admin")
    return caller.clinic
