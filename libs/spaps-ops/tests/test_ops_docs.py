"""The docs pages: every asset served by the app, no inline script, a strict CSP.

The pages themselves are loaded in a real headless Chromium by the workspace's
``tests/smoke/test_docs_pages.py``; these tests pin what the browser relies on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

import httpx
from fastapi import FastAPI
from spaps_ops._docs import ASSETS, DOCS_CSP, REDOC_LOGO

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]

SOURCES = re.compile(r'(?:src|href)="([^"]+)"')


def directives(policy: str) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in policy.split("; "))


async def test_pages_load_only_their_own_assets_under_a_strict_csp(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(make_app())
    for path, bundle in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = await client.get(path)
        assert page.status_code == 200
        policy = directives(page.headers["content-security-policy"])
        assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no hash, no CDN
        assert policy["default-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
        assert page.headers.get_list("content-security-policy") == [DOCS_CSP]
        # Every script is external; the configuration is a JSON data block.
        scripts = re.findall(r"<script([^>]*)>", page.text)
        assert all("src=" in s or 'type="application/json"' in s for s in scripts), scripts
        sources = SOURCES.findall(page.text)
        assert f"/docs/assets/{bundle}" in sources
        assert "/docs/assets/theme.js" in sources
        for source in sources:
            assert source.startswith(("/docs/assets/", "data:")), source
            if source.startswith("/"):
                asset = await client.get(source)
                assert asset.status_code == 200, source
                assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
                assert asset.headers["x-content-type-options"] == "nosniff"
        assert 'id="spaps-theme-toggle"' in page.text


async def test_every_asset_is_served_from_its_package(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(make_app())
    for name, (package, path, media_type) in ASSETS.items():
        response = await client.get(f"/docs/assets/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media_type
        shipped = files(package).joinpath(path).read_bytes()
        assert len(response.content) > 0
        if name != "redoc.standalone.js":
            assert response.content == shipped
    assert (await client.get("/docs/assets/unknown.js")).status_code == 404


async def test_the_redoc_bundle_loses_its_one_cdn_url(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    """ReDoc shows Redocly's logo from its CDN, whatever its options: the one URL of another
    origin in the bundles. An upgrade that moves it fails here (and in the browser test)."""
    package, path, _ = ASSETS["redoc.standalone.js"]
    shipped = files(package).joinpath(path).read_bytes()
    assert shipped.count(REDOC_LOGO) == 1
    client = await make_client(make_app())
    served = (await client.get("/docs/assets/redoc.standalone.js")).content
    assert REDOC_LOGO not in served
    assert b"https://cdn." not in served


async def test_the_configuration_cannot_close_its_script_element(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(make_app(title="</script><script>alert(1)</script>"))
    page = (await client.get("/docs")).text
    assert "<script>alert(1)" not in page
    data = page.split('id="spaps-docs-config">', 1)[1].split("</script>", 1)[0]
    config = json.loads(data)
    assert config["openapiUrl"] == "/openapi.json"
    assert config["parameters"]["dom_id"] == "#swagger-ui"
    assert config["parameters"]["validatorUrl"] is None


async def test_pages_follow_the_root_path(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    app = make_app()
    await make_client(app)  # runs the lifespan
    transport = httpx.ASGITransport(app=app, root_path="/api")
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    page = (await client.get("/docs")).text
    assert 'src="/api/docs/assets/swagger-ui-bundle.js"' in page
    assert '"openapiUrl": "/api/openapi.json"' in page
    await client.aclose()


async def test_oauth2_redirect_allows_only_its_own_inline_script(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(make_app())
    redirect = await client.get("/docs/oauth2-redirect")
    policy = directives(redirect.headers["content-security-policy"])
    inline = redirect.text.split("<script>", 1)[1].split("</script>", 1)[0].encode()
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    assert policy["script-src"] == f"'sha256-{digest}'"
