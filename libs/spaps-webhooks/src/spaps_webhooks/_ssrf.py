"""SSRF guard: which endpoint URLs and resolved addresses a delivery may reach."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from ._errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""Resolves ``(host, port)`` to IP address strings (``socket.getaddrinfo`` by default)."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with ``socket.getaddrinfo`` (TCP), keeping the order, without repeats.

    Args:
        host: Host name or IP literal.
        port: The port to connect to.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why a delivery must not reach ``ip``, or ``None`` when it is a public unicast address.

    IPv6 addresses that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by
    the embedded address too, so ``::ffff:127.0.0.1`` is loopback.

    Args:
        ip: The resolved address.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            if reason is not None:
                return reason
    for attribute, label in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local (cloud metadata lives here)"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attribute):
            return label
    if not ip.is_global:
        # Shared address space (100.64/10, also cloud metadata), benchmarking ranges, ...
        return "not globally routable"
    return None


@dataclass(frozen=True, slots=True)
class CheckedURL:
    """An endpoint URL that passed the guard, with the addresses it resolved to."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


class URLGuard:
    """Decide whether a webhook may be sent to a URL.

    A URL passes when its scheme is allowed (only ``https`` when ``require_https``), it
    has a host and no credentials, and EVERY address its host resolves to is a public
    unicast address or inside ``allow_networks``; ``localhost`` and ``*.localhost`` names
    count as loopback whatever they resolve to. Deliveries re-check at connect time
    and connect to the checked address (see :func:`create_delivery_client`), so a DNS
    answer that changes after registration (rebinding) cannot reach an internal address.

    Args:
        require_https: Refuse ``http://`` URLs (keep ``True`` in production).
        allow_networks: CIDR ranges allowed despite being internal, e.g. ``"127.0.0.0/8"``
            for tests and local development. Empty in production.
        resolver: Name resolution; inject a fake to test rebinding.
    """

    def __init__(
        self,
        *,
        require_https: bool = True,
        allow_networks: Iterable[str] = (),
        resolver: Resolver = system_resolver,
    ) -> None:
        if isinstance(allow_networks, str):
            raise TypeError("allow_networks is a list of CIDR strings, not one string")
        self.require_https = bool(require_https)
        self._allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks)
        self._resolver = resolver

    def check_scheme(self, url: str) -> httpx.URL:
        """Check the URL's shape without resolving it.

        Args:
            url: The endpoint URL.

        Raises:
            UnsafeURLError: Bad scheme, no host, credentials in the URL or unparsable.
        """
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise UnsafeURLError(str(url), f"not a valid URL: {exc}") from None
        schemes = ("https",) if self.require_https else ("https", "http")
        if parsed.scheme not in schemes:
            raise UnsafeURLError(url, f"the URL scheme must be {' or '.join(schemes)}")
        if not parsed.host:
            raise UnsafeURLError(url, "the URL has no host")
        if parsed.userinfo:
            raise UnsafeURLError(url, "credentials in the URL are not allowed")
        return parsed

    def allowed_address(self, address: str) -> str | None:
        """Return why ``address`` is forbidden, or ``None`` when a delivery may reach it."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip in network for network in self._allowed):
            return None
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if mapped is not None and any(mapped in network for network in self._allowed):
            return None
        return forbidden_reason(ip)

    def resolve(self, host: str, port: int, *, url: str | None = None) -> tuple[str, ...]:
        """Resolve ``host`` and check every address.

        Args:
            host: Host name or IP literal.
            port: Port to connect to.
            url: The URL for error messages.

        Raises:
            UnsafeURLError: Resolution failed or an address is forbidden.
        """
        shown = url or f"{host}:{port}"
        name = host.lower().rstrip(".")
        if (name == "localhost" or name.endswith(".localhost")) and self.allowed_address(
            "127.0.0.1"
        ):
            # RFC 6761: every *.localhost name is loopback, whatever a resolver answers.
            raise UnsafeURLError(shown, f"{host!r} is a localhost name, which is loopback")
        try:
            addresses = tuple(self._resolver(host, port))
        except (OSError, UnicodeError) as exc:
            raise UnsafeURLError(shown, f"the host {host!r} does not resolve: {exc}") from None
        if not addresses:
            raise UnsafeURLError(shown, f"the host {host!r} does not resolve")
        for address in addresses:
            reason = self.allowed_address(address)
            if reason is not None:
                raise UnsafeURLError(shown, f"{host!r} resolves to {address}, which is {reason}")
        return addresses

    def check_url(self, url: str) -> CheckedURL:
        """Check scheme and resolved addresses of ``url`` (at registration).

        Args:
            url: The endpoint URL.

        Raises:
            UnsafeURLError: The URL is not allowed.
        """
        parsed = self.check_scheme(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = self.resolve(parsed.host, port, url=url)
        return CheckedURL(url=url, host=parsed.host, port=port, addresses=addresses)

    async def acheck_url(self, url: str) -> CheckedURL:
        """:meth:`check_url` without blocking the event loop (resolution in a thread)."""
        return await asyncio.to_thread(self.check_url, url)
