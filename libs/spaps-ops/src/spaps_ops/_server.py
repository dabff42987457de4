"""``server_options``: how a service's ``serve`` command runs uvicorn from its settings."""

from __future__ import annotations

from typing import Any

from ._settings import OpsSettings


def server_options(settings: OpsSettings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` (or ``uvicorn.Config``) that make the server
    agree with ``settings`` on who the client is.

    uvicorn's defaults rewrite the client address from ``X-Forwarded-For`` whenever the
    peer is ``127.0.0.1`` (or what the ``FORWARDED_ALLOW_IPS`` variable says), so a
    client on the same host, or any client behind a local proxy that passes the header
    through, chooses the address every per-IP limit keys by. Here proxy headers are read
    only when ``settings.trusted_proxies`` lists proxies, and then only from those
    peers: the same list spaps-ratelimit's ``client_ip(trusted_proxies=...)`` trusts,
    so both agree and the environment variable plays no part.

    Args:
        settings: the service's settings.

    Returns:
        ``proxy_headers`` and ``forwarded_allow_ips``.

    .. versionadded:: 0.3.0
    """
    proxies = list(settings.trusted_proxies)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": ",".join(proxies)}
