"""An httpx transport whose connections go only to addresses the SSRF guard approved.

Built from public extension points only: a :class:`httpcore.NetworkBackend` that
resolves, checks and connects to the checked address, under a
:class:`httpcore.ConnectionPool` (``network_backend=``), adapted to httpx by a
:class:`httpx.BaseTransport` (the custom-transport interface httpx documents).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from ._errors import UnsafeURLError
from ._ssrf import URLGuard

DEFAULT_TIMEOUT = 15.0

# httpcore exception -> the httpx exception a client user expects, most specific first.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)
_HTTPCORE_ERRORS = tuple(core for core, _ in _ERRORS)


@contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except _HTTPCORE_ERRORS as exc:
        mapped = next(error for core, error in _ERRORS if isinstance(exc, core))
        raise mapped(str(exc), request=request) from exc


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """Resolve, check, then connect to the checked IP itself.

    httpcore hands us the host name; we resolve it once through the guard and open the
    socket to an address we checked, so nothing resolves the name a second time (DNS
    rebinding between check and connect is impossible). TLS still sends SNI for, and
    verifies the certificate against, the host name: httpcore passes the URL's host to
    ``start_tls`` on the stream we return, not the address we connected to.

    Args:
        guard: The SSRF guard.
        backend: The backend that opens sockets to checked addresses (default
            :class:`httpcore.SyncBackend`).
    """

    def __init__(self, guard: URLGuard, backend: httpcore.NetworkBackend | None = None) -> None:
        self._guard = guard
        self._backend = backend if backend is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._guard.resolve(host, port)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address of {host!r} accepted a connection")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise UnsafeURLError(path, "deliveries do not connect to Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors(self._request):
            yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


def _ssl_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    if isinstance(verify, str):
        # A CA bundle file or directory; httpx deprecates passing the path itself.
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify, trust_env=False)


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that connects only to addresses ``guard`` allows.

    Every connection, including one to the target of a redirect a caller chose to
    follow, is resolved and checked by :class:`GuardedNetworkBackend`.

    Args:
        guard: The SSRF guard deciding which addresses are reachable.
        limits: Connection pool limits.
        verify: TLS verification: ``True`` (certifi's CA bundle), ``False``, a CA bundle
            path or an ``ssl.SSLContext``.
    """

    def __init__(
        self,
        *,
        guard: URLGuard,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),  # noqa: B008 -- immutable value object
        verify: bool | str | ssl.SSLContext = True,
    ) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(guard),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("GuardedTransport is synchronous: use it with httpx.Client")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors(request):
            response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


def create_delivery_client(
    *,
    guard: URLGuard,
    timeout: float = DEFAULT_TIMEOUT,
    max_connections: int = 100,
    verify: bool | str | ssl.SSLContext = True,
) -> httpx.Client:
    """Return the pooled client deliveries use: guarded, no redirects, no env proxies.

    Args:
        guard: The SSRF guard.
        timeout: Connect/read/write/pool timeout in seconds (default 15).
        max_connections: Pool size.
        verify: TLS verification (see :class:`GuardedTransport`).
    """
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if max_connections < 1:
        raise ValueError("max_connections must be at least 1")
    return httpx.Client(
        transport=GuardedTransport(
            guard=guard,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            verify=verify,
        ),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": "spaps-webhooks/0.1"},
    )
