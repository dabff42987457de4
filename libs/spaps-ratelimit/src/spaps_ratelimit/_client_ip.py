"""``client_ip``: the client address, trusting forwarded headers only from proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

from .types import KeyFunc

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_NET = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(text: str) -> _IP | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` nodes of an RFC 7239 ``Forwarded`` value, left to right."""
    nodes = []
    for element in value.split(","):
        node = ""
        for pair in element.split(";"):
            name, _, val = pair.strip().partition("=")
            if name.lower() == "for":
                node = val.strip().strip('"')
        # Keep empty nodes: an element without "for" breaks the chain of trust.
        if node.startswith("["):  # "[2001:db8::1]:4711"
            node = node[1 : node.find("]")] if "]" in node else ""
        elif node.count(":") == 1:  # "192.0.2.1:8080"
            node = node.partition(":")[0]
        nodes.append(node)
    return nodes


def client_ip(
    *,
    trusted_proxies: Iterable[str] = (),
    header: str = "x-forwarded-for",
    ipv6_prefix: int = 64,
) -> KeyFunc:
    """Key requests by client IP address.

    The direct peer (``scope["client"]``) is the client unless it is one of
    ``trusted_proxies``; only then is the forwarding header read, walking from the
    right (the entry our own proxy appended) past further trusted proxies to the first
    untrusted address. A client outside the trusted list therefore cannot choose its
    key by sending ``X-Forwarded-For``. IPv6 clients are grouped by ``ipv6_prefix``
    (one /64 is usually one subscriber); IPv4-mapped IPv6 peers count as IPv4.

    Args:
        trusted_proxies: Addresses or CIDR networks of your reverse proxies.
        header: ``"x-forwarded-for"`` or ``"forwarded"`` (RFC 7239).
        ipv6_prefix: Prefix length IPv6 addresses are grouped by (1..128).

    .. versionadded:: 0.1.0
    """
    if isinstance(trusted_proxies, str):
        raise TypeError("trusted_proxies must be an iterable of addresses, not one string")
    networks: tuple[_NET, ...] = tuple(
        ipaddress.ip_network(p, strict=False) for p in trusted_proxies
    )
    header = header.lower()
    if header not in {"x-forwarded-for", "forwarded"}:
        raise ValueError(f"header must be 'x-forwarded-for' or 'forwarded', got {header!r}")
    if not isinstance(ipv6_prefix, int) or not 1 <= ipv6_prefix <= 128:
        raise ValueError(f"ipv6_prefix must be an int in 1..128, got {ipv6_prefix!r}")
    header_bytes = header.encode("latin-1")

    def trusted(ip: _IP) -> bool:
        return any(ip in net for net in networks)

    def group(ip: _IP) -> str:
        if isinstance(ip, ipaddress.IPv6Address) and ipv6_prefix < 128:
            return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
        return str(ip)

    def key(scope: Scope) -> str | None:
        client = scope.get("client")
        if not client:
            return None
        host: str = client[0]
        if not networks and ":" not in host:
            return host  # fast path: plain IPv4 peer, nothing to trust
        peer = _parse(host)
        if peer is None:
            return host  # e.g. a unix socket path: key by it as is
        if not networks or not trusted(peer):
            return group(peer)
        values = [v.decode("latin-1") for k, v in scope["headers"] if k == header_bytes]
        if header == "forwarded":
            hops = [node for value in values for node in _forwarded_for(value)]
        else:
            hops = [hop.strip() for value in values for hop in value.split(",")]
        current = peer
        for hop in reversed(hops):
            ip = _parse(hop)
            if ip is None:
                break  # garbage or an obfuscated node: the last trusted hop is the client
            current = ip
            if not trusted(ip):
                break
        return group(current)

    return key
