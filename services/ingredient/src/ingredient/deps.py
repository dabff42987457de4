"""Request dependencies: the app's settings and read sessions (a read-write database
session is spaps-ops' ``SessionDep``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from spaps_ops import get_ops
from spaps_ops.db import session_scope
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingredient.events import WebhookRuntime
from ingredient.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings = get_ops(request).settings
    if not isinstance(settings, Settings):
        raise TypeError("the app was not built by ingredient.create_app")
    return settings


def get_webhooks(request: Request) -> WebhookRuntime:
    """The app's webhook runtime (publishing ``ingredient.updated``)."""
    runtime = getattr(request.app.state, "webhooks", None)
    if not isinstance(runtime, WebhookRuntime):
        raise RuntimeError("webhooks are not set up: build the app with ingredient.create_app")
    return runtime


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read session for this request (``ingredient.db.create_read_sessionmaker``: no
    transaction around its statements; writes raise), with ``SessionDep``'s outage
    behaviour (503 ``ops.database_unavailable``)."""
    sessions = getattr(request.app.state, "read_sessions", None)
    if not isinstance(sessions, async_sessionmaker):
        raise RuntimeError("read sessions are not set up: build the app with create_app")
    async with session_scope(sessions) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
