"""The interactive API docs (Swagger UI, ReDoc), served offline under a strict CSP.

The pages load nothing from another origin: Swagger UI's and ReDoc's bundles come from the
``fastapi-offline`` package (its ``static`` folder), the start-up code and the light/dark
toggle from this package's ``_docs_static`` folder, all served by the app under
``<docs_url>/assets/``. The pages carry no inline script (their configuration is a JSON
data block the start-up scripts read), so their CSP allows scripts from ``'self'`` only.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from html import escape
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html, swagger_ui_default_parameters
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

#: Each served asset: its package, its path there, its media type.
ASSETS: dict[str, tuple[str, str, str]] = {
    "swagger-ui-bundle.js": ("fastapi_offline", "static/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("fastapi_offline", "static/swagger-ui.css", "text/css"),
    "redoc.standalone.js": ("fastapi_offline", "static/redoc.standalone.js", "text/javascript"),
    "swagger-init.js": ("spaps_ops", "_docs_static/swagger-init.js", "text/javascript"),
    "redoc-init.js": ("spaps_ops", "_docs_static/redoc-init.js", "text/javascript"),
    "theme.js": ("spaps_ops", "_docs_static/theme.js", "text/javascript"),
    "theme.css": ("spaps_ops", "_docs_static/theme.css", "text/css"),
}

#: The docs pages' CSP: scripts, styles, images and fonts from the app only. Styles allow
#: ``'unsafe-inline'`` because both UIs set ``style`` attributes at run time (ReDoc builds
#: its styles in JavaScript); ReDoc's search runs in a worker made from a ``blob:``.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

#: ReDoc's bundle shows Redocly's logo from its CDN, unconditionally: the one absolute URL
#: in the pages, so it is rewritten to an empty image (a test pins that it is there once).
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_BLANK_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
{styles}<link rel="stylesheet" href="{assets}/theme.css">
<script type="application/json" id="spaps-docs-config">{config}</script>
<script src="{assets}/theme.js"></script>
</head>
<body>
<button id="spaps-theme-toggle" type="button" aria-pressed="false">Dark theme</button>
<div class="spaps-docs" id="{container}"></div>
<script src="{assets}/{bundle}"></script>
<script src="{assets}/{init}"></script>
</body>
</html>
"""


@functools.cache
def asset(name: str) -> bytes:
    """The content of the asset ``name`` (a key of :data:`ASSETS`), read once."""
    package, path, _ = ASSETS[name]
    content = files(package).joinpath(path).read_bytes()
    return content.replace(REDOC_LOGO, _BLANK_IMAGE) if name == "redoc.standalone.js" else content


def page(
    *, title: str, assets: str, config: dict[str, Any], container: str, bundle: str, init: str
) -> HTMLResponse:
    """A docs page: ``bundle`` started by ``init`` with ``config``, under :data:`DOCS_CSP`."""
    # ``<`` escaped: the JSON cannot close its <script> element, whatever a title holds.
    data = json.dumps(config).replace("<", "\\u003c")
    href = escape(assets)
    swagger = init.startswith("swagger")
    styles = f'<link rel="stylesheet" href="{href}/swagger-ui.css">\n' if swagger else ""
    html = _PAGE.format(
        title=escape(title), styles=styles, assets=href, config=data,
        container=container, bundle=bundle, init=init,
    )  # fmt: skip
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})


def redirect_csp(html: bytes) -> str:
    """The CSP of Swagger UI's OAuth2 redirect page: its one inline script by SHA-256."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return f"default-src 'none'; script-src {hashes}; frame-ancestors 'none'; base-uri 'none'"


def install_docs(app: FastAPI, *, docs_url: str | None, redoc_url: str | None) -> None:
    """Serve Swagger UI at ``docs_url`` and ReDoc at ``redoc_url`` (``None``: not served),
    with their assets under ``<docs_url or redoc_url>/assets/`` and :data:`DOCS_CSP`.

    Args:
        app: the app; its ``openapi_url`` must be set for the pages to be served.
        docs_url: Swagger UI's path.
        redoc_url: ReDoc's path.
    """
    first = docs_url or redoc_url
    if not app.openapi_url or not first:
        return
    openapi_url = app.openapi_url
    assets_path = first.rstrip("/") + "/assets"

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    for name in ASSETS:
        app.add_route(f"{assets_path}/{name}", _asset_endpoint(name), include_in_schema=False)
    if docs_url:
        redirect_url = app.swagger_ui_oauth2_redirect_url

        async def swagger_ui_html(request: Request) -> HTMLResponse:
            config = {
                "openapiUrl": root(request) + openapi_url,
                "parameters": {
                    **swagger_ui_default_parameters,
                    "validatorUrl": None,  # no badge fetched from swagger.io
                    **(app.swagger_ui_parameters or {}),
                },
                "oauth2RedirectUrl": root(request) + redirect_url if redirect_url else None,
                "initOAuth": app.swagger_ui_init_oauth,
            }
            return page(
                title=f"{app.title} - Swagger UI", assets=root(request) + assets_path,
                config=config, container="swagger-ui", bundle="swagger-ui-bundle.js",
                init="swagger-init.js",
            )  # fmt: skip

        app.add_route(docs_url, swagger_ui_html, include_in_schema=False)
        if redirect_url:

            async def swagger_ui_redirect(request: Request) -> HTMLResponse:
                response = get_swagger_ui_oauth2_redirect_html()
                response.headers["Content-Security-Policy"] = redirect_csp(bytes(response.body))
                return response

            app.add_route(redirect_url, swagger_ui_redirect, include_in_schema=False)
    if redoc_url:

        async def redoc_html(request: Request) -> HTMLResponse:
            config = {"openapiUrl": root(request) + openapi_url, "options": {}}
            return page(
                title=f"{app.title} - ReDoc", assets=root(request) + assets_path, config=config,
                container="redoc-container", bundle="redoc.standalone.js", init="redoc-init.js",
            )  # fmt: skip

        app.add_route(redoc_url, redoc_html, include_in_schema=False)


def _asset_endpoint(name: str) -> Any:
    media_type = ASSETS[name][2]

    async def endpoint(request: Request) -> Response:
        # An hour: the names carry no version, so an upgrade shows within that.
        headers = {"Cache-Control": "public, max-age=3600"}
        return Response(asset(name), media_type=media_type, headers=headers)

    return endpoint
