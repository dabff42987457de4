"""Request dependencies: the app's settings (a database session is spaps-ops' ``SessionDep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from spaps_ops import get_ops

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


SettingsDep = Annotated[Settings, Depends(get_settings)]
