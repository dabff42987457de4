"""The SSRF guard: schemes, resolved addresses, allowlist, pinned connections."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from spaps_webhooks import (
    GuardedTransport,
    UnsafeURLError,
    URLGuard,
    create_delivery_client,
    forbidden_reason,
)

if TYPE_CHECKING:
    from conftest import Canary, LoopbackServer


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


def test_delivery_client_refuses_internal_addresses_at_connect(canary: Canary) -> None:
    client = create_delivery_client(guard=URLGuard(require_https=False))
    with client, pytest.raises(UnsafeURLError, match="loopback"):
        client.post(f"http://127.0.0.1:{canary.port}/hook", content=b"{}")
    assert canary.connections() == 0


# Spellings of 127.0.0.1 that the system resolver accepts; each must be judged by the
# address it resolves to, never by its text.
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "017700000001",  # octal
    "0x7f000001",  # hexadecimal
    "0x7f.0.0.1",  # hexadecimal first part
    "127.1",  # short form
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "localhost",
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_is_refused_before_connecting(host: str, canary: Canary) -> None:
    url = f"http://{host}:{canary.port}/hook"
    guard = URLGuard(require_https=False)
    with pytest.raises(UnsafeURLError, match="loopback"):
        guard.check_url(url)
    with (
        create_delivery_client(guard=guard) as client,
        pytest.raises(UnsafeURLError, match="loopback"),
    ):
        client.post(url, content=b"{}")
    assert canary.connections() == 0


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_the_canary_sees_each_spelling_the_guard_allows(host: str, canary: Canary) -> None:
    # The control for the test above: the same URLs do reach the canary when allowed.
    guard = URLGuard(require_https=False, allow_networks=["127.0.0.0/8", "::1/128"])
    with (
        create_delivery_client(guard=guard, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post(f"http://{host}:{canary.port}/hook", content=b"{}")  # nobody answers
    assert canary.connections() == 1


def test_a_dotted_octal_address_is_not_a_valid_url(canary: Canary) -> None:
    url = f"http://0177.0.0.1:{canary.port}/hook"
    with pytest.raises(UnsafeURLError, match="not a valid URL"):
        URLGuard(require_https=False).check_url(url)
    with (
        create_delivery_client(guard=URLGuard(require_https=False)) as client,
        pytest.raises(httpx.InvalidURL),
    ):
        client.post(url, content=b"{}")
    assert canary.connections() == 0


@pytest.mark.parametrize(
    "host",
    [
        "0x7f.1",  # hexadecimal short form
        "LOCALHOST",  # resolved case-insensitively from /etc/hosts
        "[::ffff:7f00:1]",  # IPv4-mapped, hexadecimal
        "[0:0:0:0:0:ffff:127.0.0.1]",  # IPv4-mapped, long form
    ],
)
def test_more_spellings_of_loopback_are_refused_before_connecting(
    host: str, canary: Canary
) -> None:
    url = f"http://{host}:{canary.port}/hook"
    guard = URLGuard(require_https=False)
    with pytest.raises(UnsafeURLError, match="loopback"):
        guard.check_url(url)
    with (
        create_delivery_client(guard=guard) as client,
        pytest.raises(UnsafeURLError, match="loopback"),
    ):
        client.post(url, content=b"{}")
    assert canary.connections() == 0


@pytest.mark.parametrize("host", ["localhost.", "api.localhost", "A.B.LOCALHOST."])
def test_localhost_names_are_refused_whatever_they_resolve_to(host: str) -> None:
    # A resolver answering with a public address must not make a localhost name pass.
    asked: list[str] = []

    def public(name: str, port: int) -> list[str]:
        asked.append(name)
        return ["93.184.215.14"]

    guard = URLGuard(require_https=False, resolver=public)
    with pytest.raises(UnsafeURLError, match="localhost name, which is loopback"):
        guard.check_url(f"http://{host}/hook")
    with (
        create_delivery_client(guard=guard) as client,
        pytest.raises(UnsafeURLError, match="localhost name"),
    ):
        client.post(f"http://{host}/hook", content=b"{}")
    assert asked == []  # refused by name, before any resolution
    # Allowing loopback (tests, local development) allows the names too.
    allowed = URLGuard(require_https=False, resolver=public, allow_networks=["127.0.0.0/8"])
    assert allowed.check_url(f"http://{host}/hook").addresses == ("93.184.215.14",)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_redirect_status_is_followed_to_a_private_address(
    status: int, loopback_server: Callable[..., LoopbackServer], canary: Canary
) -> None:
    # The redirect names the canary by a public-looking name that resolves to loopback.
    server = loopback_server(
        host="127.0.0.2",
        reply=lambda path: (status, {"location": f"http://internal.test:{canary.port}/x"}),
    )

    def resolver(name: str, port: int) -> list[str]:
        return ["127.0.0.2"] if name == "hooks.test" else ["127.0.0.1"]

    guard = URLGuard(require_https=False, allow_networks=["127.0.0.2/32"], resolver=resolver)
    url = f"http://hooks.test:{server.port}/hook"
    with create_delivery_client(guard=guard) as client:
        assert client.post(url, content=b"{}").status_code == status
        with pytest.raises(UnsafeURLError, match=r"internal\.test"):
            client.post(url, content=b"{}", follow_redirects=True)
    assert canary.connections() == 0
    assert len(server.requests) == 2


def test_the_client_resolves_once_and_connects_to_the_checked_address(
    loopback_server: Callable[..., LoopbackServer],
) -> None:
    server = loopback_server()
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["127.0.0.1"]

    guard = URLGuard(require_https=False, allow_networks=["127.0.0.0/8"], resolver=resolver)
    with create_delivery_client(guard=guard) as client:
        # hooks.test exists only in our resolver: had anything else resolved it, the
        # connection would have failed.
        response = client.post(f"http://hooks.test:{server.port}/hook", content=b"{}")
    assert response.status_code == 204
    assert asked == [("hooks.test", server.port)]
    assert server.requests == [{"path": "/hook", "host": f"hooks.test:{server.port}"}]


def test_dns_rebinding_after_registration_never_connects(canary: Canary) -> None:
    answers = iter([["93.184.215.14"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])  # public when registered, loopback afterwards

    guard = URLGuard(require_https=False, resolver=rebinding)
    url = f"http://rebind.test:{canary.port}/hook"
    assert guard.check_url(url).addresses == ("93.184.215.14",)
    with (
        create_delivery_client(guard=guard) as client,
        pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1, which is loopback"),
    ):
        client.post(url, content=b"{}")
    assert canary.connections() == 0


def test_redirects_to_private_addresses_are_never_followed(
    loopback_server: Callable[..., LoopbackServer], canary: Canary
) -> None:
    target = f"http://127.0.0.1:{canary.port}/internal"
    server = loopback_server(host="127.0.0.2", reply=lambda path: (307, {"location": target}))
    # Only the first hop's address is allowed; the redirect points at the canary.
    guard = URLGuard(require_https=False, allow_networks=["127.0.0.2/32"])
    url = f"http://127.0.0.2:{server.port}/hook"
    with create_delivery_client(guard=guard) as client:
        assert client.follow_redirects is False
        response = client.post(url, content=b"{}")
        assert response.status_code == 307
        assert canary.connections() == 0
        # A caller who opts into redirects still gets every hop checked.
        with pytest.raises(UnsafeURLError, match="loopback"):
            client.post(url, content=b"{}", follow_redirects=True)
    assert canary.connections() == 0
    assert [r["path"] for r in server.requests] == ["/hook", "/hook"]


def test_delivery_client_ignores_proxies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    loopback_server: Callable[..., LoopbackServer],
    canary: Canary,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{canary.port}")
    server = loopback_server()
    guard = URLGuard(require_https=False, allow_networks=["127.0.0.0/8"])
    with create_delivery_client(guard=guard, timeout=3) as client:
        assert client.timeout == httpx.Timeout(3)
        response = client.post(f"http://127.0.0.1:{server.port}/hook", content=b"{}")
    assert response.status_code == 204
    assert len(server.requests) == 1
    assert canary.connections() == 0


def test_tls_sends_and_verifies_the_host_name_not_the_address(
    loopback_server: Callable[..., LoopbackServer], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server = loopback_server(tls=tls)
    guard = URLGuard(allow_networks=["127.0.0.0/8"], resolver=lambda host, port: ["127.0.0.1"])
    trusting = ssl.create_default_context(cafile=str(cert))
    with create_delivery_client(guard=guard, verify=trusting) as client:
        # The certificate names hooks.test only, not 127.0.0.1: this verifies by name.
        response = client.post(f"https://hooks.test:{server.port}/hook", content=b"{}")
        assert response.status_code == 204
        assert server.server_names == ["hooks.test"]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client.post(f"https://other.test:{server.port}/hook", content=b"{}")
    assert server.server_names == ["hooks.test", "other.test"]
    assert len(server.requests) == 1
    # A CA bundle path works as well (loaded here, without httpx's deprecated str form).
    with create_delivery_client(guard=guard, verify=str(cert)) as client:
        assert client.post(f"https://hooks.test:{server.port}/hook").status_code == 204


def test_guarded_transport_is_a_plain_httpx_transport() -> None:
    transport = GuardedTransport(guard=URLGuard())
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(UnsafeURLError, match="loopback"),
    ):
        client.get("https://localhost/")


def test_guard_validates_arguments() -> None:
    with pytest.raises(TypeError, match="list of CIDR"):
        URLGuard(allow_networks="127.0.0.0/8")
    with pytest.raises(ValueError, match="timeout"):
        create_delivery_client(guard=URLGuard(), timeout=0)
