"""The interactive API docs (Swagger UI, ReDoc), served with a Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
#: Where FastAPI's pages load their assets from (its defaults).
_CDN = "https://cdn.jsdelivr.net"


def docs_csp(html: bytes) -> str:
    """A CSP for one docs page: its own inline scripts (by hash) and the CDN's assets.

    Args:
        html: the page; every inline ``<script>`` in it is allowed by its SHA-256.
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    script_src = f"{_CDN} {hashes}".rstrip()
    return (
        "default-src 'none'; "
        f"script-src {script_src}; "
        f"style-src {_CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src https://fonts.gstatic.com; "
        "img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; worker-src blob:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def _with_csp(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body))
    return page


def install_docs(app: FastAPI, *, docs_url: str | None, redoc_url: str | None) -> None:
    """Serve Swagger UI at ``docs_url`` and ReDoc at ``redoc_url`` (``None``: not served),
    as FastAPI would, each with a CSP that allows only what the page loads.

    Args:
        app: the app; its ``openapi_url`` must be set for the pages to be served.
        docs_url: Swagger UI's path.
        redoc_url: ReDoc's path.
    """
    if not app.openapi_url:
        return
    openapi_url = app.openapi_url

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    if docs_url:
        redirect_url = app.swagger_ui_oauth2_redirect_url

        async def swagger_ui_html(request: Request) -> HTMLResponse:
            return _with_csp(
                get_swagger_ui_html(
                    openapi_url=root(request) + openapi_url,
                    title=f"{app.title} - Swagger UI",
                    oauth2_redirect_url=root(request) + redirect_url if redirect_url else None,
                    init_oauth=app.swagger_ui_init_oauth,
                    swagger_ui_parameters=app.swagger_ui_parameters,
                )
            )

        app.add_route(docs_url, swagger_ui_html, include_in_schema=False)
        if redirect_url:

            async def swagger_ui_redirect(request: Request) -> HTMLResponse:
                return _with_csp(get_swagger_ui_oauth2_redirect_html())

            app.add_route(redirect_url, swagger_ui_redirect, include_in_schema=False)
    if redoc_url:

        async def redoc_html(request: Request) -> HTMLResponse:
            return _with_csp(
                get_redoc_html(
                    openapi_url=root(request) + openapi_url, title=f"{app.title} - ReDoc"
                )
            )

        app.add_route(redoc_url, redoc_html, include_in_schema=False)
