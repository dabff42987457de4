"""Security response headers, computed once."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A CSP for JSON APIs: nothing may load, nothing may frame the response.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    """Add HSTS, ``nosniff``, frame options, referrer policy and a CSP to every response.

    Headers the app already set on a response are left as they are, so a route can
    loosen one. Paths in ``csp_exempt_paths`` (the interactive API docs, which need
    scripts) get no CSP.

    Args:
        app: the ASGI app to wrap.
        hsts_max_age: ``Strict-Transport-Security`` max-age in seconds; 0 disables HSTS.
        hsts_include_subdomains: add ``includeSubDomains``.
        hsts_preload: add ``preload``.
        frame_options: ``X-Frame-Options`` (``DENY`` or ``SAMEORIGIN``).
        referrer_policy: ``Referrer-Policy``.
        content_security_policy: ``Content-Security-Policy``; ``None`` disables it.
        permissions_policy: ``Permissions-Policy``; ``None`` disables it.
        csp_exempt_paths: exact paths that get no CSP.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts_max_age: int = 63_072_000,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        frame_options: str = "DENY",
        referrer_policy: str = "no-referrer",
        content_security_policy: str | None = API_CSP,
        permissions_policy: str | None = None,
        csp_exempt_paths: frozenset[str] = frozenset(),
    ) -> None:
        if not isinstance(hsts_max_age, int) or hsts_max_age < 0:
            raise ValueError("hsts_max_age must be an int >= 0")
        if frame_options.upper() not in {"DENY", "SAMEORIGIN"}:
            raise ValueError("frame_options must be DENY or SAMEORIGIN")
        self.app = app
        headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", frame_options.upper().encode()),
            (b"referrer-policy", referrer_policy.encode("latin-1")),
        ]
        if hsts_max_age:
            hsts = f"max-age={hsts_max_age}"
            hsts += "; includeSubDomains" if hsts_include_subdomains else ""
            hsts += "; preload" if hsts_preload else ""
            headers.append((b"strict-transport-security", hsts.encode()))
        if permissions_policy is not None:
            headers.append((b"permissions-policy", permissions_policy.encode("latin-1")))
        without_csp = list(headers)
        if content_security_policy is not None:
            headers.append((b"content-security-policy", content_security_policy.encode("latin-1")))
        self._headers = tuple(headers)
        self._headers_without_csp = tuple(without_csp)
        self._names = frozenset(name for name, _ in headers)
        self._csp_exempt = frozenset(csp_exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers_without_csp if scope["path"] in self._csp_exempt else self._headers
        names = self._names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = header_pairs(message)
                # ASGI header names are lower-case bytes, so a set lookup is enough.
                present = [name for name, _ in headers if name in names]
                if present:
                    message["headers"] = [*headers, *(h for h in extra if h[0] not in present)]
                else:
                    message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def header_pairs(message: Message) -> list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]:
    """The headers of an ``http.response.start`` message as a list or tuple: ASGI allows
    any iterable, which may be readable only once."""
    headers = message.get("headers", ())
    return headers if isinstance(headers, list | tuple) else list(headers)
