"""The SSRF guard: schemes, resolved addresses, allowlist, pinned connections."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from spaps_webhooks import (
    GuardedTransport,
    UnsafeURLError,
    URLGuard,
    create_delivery_client,
    forbidden_reason,
)


def guard_resolving(address: str, **kw: object) -> URLGuard:
    return URLGuard(resolver=lambda host, port: [address], **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # metadata in the shared address space
        "0.0.0.0",  # noqa: S104 -- an address under test, nothing binds to it
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # AWS IPv6 metadata
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "ff02::1",
        "::",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None
    with pytest.raises(UnsafeURLError, match="resolves to"):
        guard_resolving(address).check_url("https://hooks.example.com/in")


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    checked = guard_resolving(address).check_url("https://hooks.example.com/in")
    assert checked.addresses == (address,)
    assert checked.port == 443


def test_one_internal_answer_among_public_ones_is_refused() -> None:
    guard = URLGuard(resolver=lambda host, port: ["1.1.1.1", "10.0.0.1"])
    with pytest.raises(UnsafeURLError, match=r"10\.0\.0\.1"):
        guard.check_url("https://hooks.example.com/")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://hooks.example.com/", "scheme must be https"),
        ("ftp://hooks.example.com/", "scheme"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https:///nohost", "no host"),
        ("not a url at all", "scheme"),
    ],
)
def test_bad_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(UnsafeURLError, match=match):
        guard_resolving("1.1.1.1").check_url(url)


def test_http_is_allowed_only_when_https_is_not_required() -> None:
    guard = guard_resolving("1.1.1.1", require_https=False)
    assert guard.check_url("http://hooks.example.com/").port == 80


def test_allowlist_opens_internal_ranges_for_tests() -> None:
    guard = guard_resolving("127.0.0.1", require_https=False, allow_networks=["127.0.0.0/8"])
    assert guard.check_url("http://localhost:8000/").addresses == ("127.0.0.1",)
    mapped = guard_resolving("::ffff:127.0.0.1", allow_networks=["127.0.0.0/8"])
    assert mapped.check_url("https://localhost/").addresses == ("::ffff:127.0.0.1",)
    with pytest.raises(UnsafeURLError):
        guard_resolving("10.0.0.1", allow_networks=["127.0.0.0/8"]).check_url("https://x/")


def test_unresolvable_host_is_refused() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeURLError, match="does not resolve"):
        URLGuard(resolver=fail).check_url("https://nowhere.invalid/")
    with pytest.raises(UnsafeURLError, match="does not resolve"):
        URLGuard(resolver=lambda h, p: []).check_url("https://nowhere.invalid/")


def test_system_resolver_refuses_localhost() -> None:
    with pytest.raises(UnsafeURLError, match="loopback"):
        URLGuard().check_url("https://localhost/")


async def test_async_check_resolves_off_the_loop() -> None:
    checked = await guard_resolving("1.1.1.1").acheck_url("https://hooks.example.com/")
    assert checked.host == "hooks.example.com"


def test_delivery_client_refuses_internal_addresses_at_connect() -> None:
    client = create_delivery_client(guard=URLGuard(require_https=False))
    with client, pytest.raises(UnsafeURLError, match="loopback"):
        client.post("http://127.0.0.1:9/hook", content=b"{}")


def test_delivery_client_does_not_follow_redirects_or_read_env_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
    client = create_delivery_client(guard=URLGuard(), timeout=3)
    with client:
        assert client.follow_redirects is False
        assert client.timeout == httpx.Timeout(3)
        assert isinstance(client._transport, GuardedTransport)  # no proxy mount from the env
        assert client._mounts == {}


def test_guard_validates_arguments() -> None:
    with pytest.raises(TypeError, match="list of CIDR"):
        URLGuard(allow_networks="127.0.0.0/8")
    with pytest.raises(ValueError, match="timeout"):
        create_delivery_client(guard=URLGuard(), timeout=0)
