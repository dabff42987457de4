"""Magic links, wallet sign-in (EIP-4361), invitations and signed cookies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi import FastAPI, Request, Response
from spaps_auth import (
    CookieSigner,
    InvalidInvitationError,
    InvalidMagicLinkError,
    InvalidSignatureError,
    MagicLinkManager,
    NotFoundError,
    OrganisationManager,
    RecordingMailSender,
    SiweMessage,
    WalletSignIn,
    WalletSignInError,
)
from spaps_auth._tables import magic_links
from spaps_auth.fastapi import install_error_handlers, read_signed_cookie, set_signed_cookie
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def _token_from(sender: RecordingMailSender, to: str) -> str:
    text = sender.last_to(to).text
    link = next(w for w in text.split() if w.startswith("https://"))
    return parse_qs(urlsplit(link).query)["token"][0]


# --- magic links ---------------------------------------------------------------------


async def test_magic_link_single_use(engine: AsyncEngine) -> None:
    sender = RecordingMailSender()
    links = MagicLinkManager(
        engine, sender=sender, link_template="https://app.test/magic?token={token}"
    )
    await links.send(" Alice@Example.TEST ")
    token = _token_from(sender, "alice@example.test")
    async with engine.connect() as conn:
        stored = (await conn.execute(select(magic_links.c.token_hash))).scalar_one()
    assert token not in stored  # hashed at rest
    assert await links.consume(token) == "alice@example.test"
    with pytest.raises(InvalidMagicLinkError):
        await links.consume(token)  # replayed


async def test_magic_link_expiry_and_garbage(engine: AsyncEngine) -> None:
    clock = Clock()
    sender = RecordingMailSender()
    links = MagicLinkManager(
        engine,
        sender=sender,
        link_template="https://app.test/m?token={token}",
        ttl=timedelta(minutes=5),
        clock=clock,
    )
    await links.send("bob@example.test")
    token = _token_from(sender, "bob@example.test")
    clock.now += timedelta(minutes=6)
    with pytest.raises(InvalidMagicLinkError):
        await links.consume(token)
    for garbage in ["", "short", "x" * 500, token[:-1] + "A"]:
        with pytest.raises(InvalidMagicLinkError):
            await links.consume(garbage)
    with pytest.raises(ValueError, match="token"):
        MagicLinkManager(engine, sender=sender, link_template="https://app.test/")
    with pytest.raises(LookupError):
        sender.last_to("nobody@example.test")


# --- wallet sign-in ------------------------------------------------------------------

ACCOUNT = Account.from_key("0x" + "11" * 32)


def _sign(text: str, account: Any = ACCOUNT) -> str:
    return str(account.sign_message(encode_defunct(text=text)).signature.hex())


@pytest.fixture
def wallet(engine: AsyncEngine) -> WalletSignIn:
    return WalletSignIn(
        engine, domain="app.example.test", uri="https://app.example.test/login", chain_ids=[1, 137]
    )


async def test_wallet_sign_in_and_nonce_replay(wallet: WalletSignIn) -> None:
    nonce = await wallet.new_nonce()
    text = wallet.build_message(ACCOUNT.address, nonce).to_text()
    assert text.startswith(
        "app.example.test wants you to sign in with your Ethereum account:\n" + ACCOUNT.address
    )
    signature = _sign(text)
    assert await wallet.verify(text, signature) == ACCOUNT.address
    with pytest.raises(WalletSignInError, match="nonce"):
        await wallet.verify(text, signature)  # replayed nonce


def test_message_round_trip_with_every_field() -> None:
    issued = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    message = SiweMessage(
        domain="app.example.test",
        address=ACCOUNT.address,
        uri="https://app.example.test",
        chain_id=137,
        nonce="abcdef123456",
        issued_at=issued,
        statement="Sign in to HTMA",
        expiration_time=issued + timedelta(minutes=5),
        not_before=issued,
        request_id="r-1",
        resources=("https://a.test/1", "ipfs://x"),
        scheme="https",
    )
    assert SiweMessage.parse(message.to_text()) == message
    bare = SiweMessage(
        domain="d.test",
        address=ACCOUNT.address,
        uri="https://d.test",
        chain_id=1,
        nonce="abcdefgh1",
        issued_at=issued,
    )
    assert "\n\n\nURI: " in bare.to_text()  # no statement: ABNF gives three line feeds
    assert SiweMessage.parse(bare.to_text()) == bare


async def test_wallet_rejections(wallet: WalletSignIn, engine: AsyncEngine) -> None:
    nonce = await wallet.new_nonce()
    good = wallet.build_message(ACCOUNT.address, nonce)
    other = Account.from_key("0x" + "22" * 32)

    def variant(**changes: Any) -> str:
        fields = {**good.__dict__, **changes}
        return SiweMessage(**fields).to_text()

    cases = {
        "wrong domain": variant(domain="evil.test"),
        "wrong URI": variant(uri="https://evil.test/login"),
        "chain not accepted": variant(chain_id=5),
        "expired": variant(expiration_time=datetime.now(UTC) - timedelta(seconds=1)),
        "not yet valid": variant(not_before=datetime.now(UTC) + timedelta(hours=1)),
        "nonce": variant(nonce="neverissued123"),
    }
    for reason, text in cases.items():
        with pytest.raises(WalletSignInError):
            await wallet.verify(text, _sign(text))
        assert reason
    text = good.to_text()
    with pytest.raises(WalletSignInError, match="does not match"):
        await wallet.verify(text, _sign(text, other))
    lowered = variant(address=ACCOUNT.address.lower())  # EIP-55 checksum required
    with pytest.raises(WalletSignInError, match="does not match"):
        await wallet.verify(lowered, _sign(lowered))
    for bad_signature in ["0x1234", "0x" + "00" * 65, "zz" * 65]:
        with pytest.raises(WalletSignInError, match="bad signature"):
            await wallet.verify(text, bad_signature)
    for garbage in ["", "hello", text.replace("Nonce: ", "Nonce:"), text + "\nextra"]:
        with pytest.raises(WalletSignInError, match="malformed"):
            await wallet.verify(garbage, _sign(garbage))
    # The genuine message still works: failed attempts did not burn the nonce.
    assert await wallet.verify(text, _sign(text)) == ACCOUNT.address


async def test_expired_nonce(engine: AsyncEngine) -> None:
    clock = Clock()
    wallet = WalletSignIn(
        engine, domain="d.test", uri="https://d.test", nonce_ttl=timedelta(minutes=1), clock=clock
    )
    nonce = await wallet.new_nonce()
    message = wallet.build_message(ACCOUNT.address, nonce)
    message = SiweMessage(**{**message.__dict__, "expiration_time": None})
    clock.now += timedelta(minutes=2)
    with pytest.raises(WalletSignInError, match="nonce"):
        await wallet.verify(message.to_text(), _sign(message.to_text()))


# --- organisations and invitations ---------------------------------------------------


async def test_invitation_flow(engine: AsyncEngine) -> None:
    sender = RecordingMailSender()
    orgs = OrganisationManager(
        engine, sender=sender, accept_url_template="https://app.test/join?token={token}"
    )
    clinic = await orgs.create_organisation("Clinic", owner_id="owner")
    team = await orgs.create_team(clinic.id, "Lab")
    first, first_token = await orgs.invite(
        clinic.id, "Pat@Example.test", "practitioner", team_id=team.id, invited_by="owner"
    )
    assert first.email == "pat@example.test"
    _, second_token = await orgs.invite(
        clinic.id, "pat@example.test", "practitioner", team_id=team.id
    )  # resend
    assert _token_from(sender, "pat@example.test") == second_token
    with pytest.raises(InvalidInvitationError):
        await orgs.accept(first_token, "pat")  # superseded by the resend
    with pytest.raises(InvalidInvitationError):
        await orgs.accept(second_token, "pat", email="someone@else.test")
    member = await orgs.accept(second_token, "pat", email="pat@example.test")
    assert (member.org_id, member.team_id, member.role) == (clinic.id, team.id, "practitioner")
    with pytest.raises(InvalidInvitationError):
        await orgs.accept(second_token, "pat")  # used
    assert {(m.org_id, m.team_id) for m in await orgs.memberships("pat")} == {(clinic.id, team.id)}
    assert [m.user_id for m in await orgs.members(clinic.id)] == ["owner"]
    assert [m.user_id for m in await orgs.members(clinic.id, team_id=team.id)] == ["pat"]
    with pytest.raises(ValueError, match="already a member"):
        await orgs.add_member(clinic.id, "owner", "admin")
    with pytest.raises(NotFoundError):
        await orgs.invite("no-such-org", "x@example.test", "viewer")


async def test_invitation_expiry(engine: AsyncEngine) -> None:
    clock = Clock()
    orgs = OrganisationManager(engine, invitation_ttl=timedelta(days=1), clock=clock)
    org = await orgs.create_organisation("Org", owner_id="o")
    _, token = await orgs.invite(org.id, "late@example.test", "viewer")
    clock.now += timedelta(days=2)
    with pytest.raises(InvalidInvitationError):
        await orgs.accept(token, "late")
    with pytest.raises(InvalidInvitationError):
        await orgs.accept("garbage", "late")


async def test_pending_invitation_and_ensure_organisation(engine: AsyncEngine) -> None:
    clock = Clock()
    orgs = OrganisationManager(engine, invitation_ttl=timedelta(days=1), clock=clock)
    await orgs.ensure_organisation("northside", "Northside")
    await orgs.ensure_organisation("northside", "Renamed")  # exists: nothing changes
    assert await orgs.members("northside") == []
    invitation, token = await orgs.invite("northside", "Pat@Example.test", "patient")
    pending = await orgs.pending_invitation(token)
    assert pending == invitation
    assert (pending.org_id, pending.email, pending.role) == (
        "northside",
        "pat@example.test",
        "patient",
    )
    assert await orgs.pending_invitation(token) is not None  # looking does not use it
    await orgs.accept(token, "pat")
    assert await orgs.pending_invitation(token) is None  # used
    _, late = await orgs.invite("northside", "late@example.test", "patient")
    clock.now += timedelta(days=2)
    assert await orgs.pending_invitation(late) is None  # expired
    assert await orgs.pending_invitation("garbage") is None


async def test_magic_link_text_for_another_use(engine: AsyncEngine) -> None:
    sender = RecordingMailSender()
    links = MagicLinkManager(
        engine, sender=sender, link_template="https://app.test/reset?token={token}",
        text="Reset within {minutes} minutes: {link}", ttl=timedelta(minutes=30),
    )  # fmt: skip
    await links.send("a@example.test")
    text = sender.last_to("a@example.test").text
    assert text.startswith("Reset within 30 minutes: https://app.test/reset?token=")
    assert await links.consume(_token_from(sender, "a@example.test")) == "a@example.test"
    with pytest.raises(ValueError, match="link"):
        MagicLinkManager(engine, sender=sender, link_template="{token}", text="no placeholder")


# --- signed cookies ------------------------------------------------------------------


class EpochClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_cookie_sign_rotate_expire_tamper() -> None:
    clock = EpochClock()
    old = CookieSigner([("k1", b"a" * 32)], max_age=60, clock=clock)
    signed_old = old.sign("user-1")
    rotated = CookieSigner([("k2", b"b" * 32), ("k1", b"a" * 32)], max_age=60, clock=clock)
    assert rotated.unsign(signed_old) == "user-1"  # old key still verifies
    assert rotated.sign("x").startswith("k2.")  # new key signs
    dropped = CookieSigner([("k2", b"b" * 32)], max_age=60, clock=clock)
    with pytest.raises(InvalidSignatureError, match="unknown"):
        dropped.unsign(signed_old)
    kid, payload, stamp, mac = signed_old.split(".")
    for bad in [
        f"{kid}.{payload}x.{stamp}.{mac}",
        f"{kid}.{payload}.{int(stamp) + 1}.{mac}",
        "a.b.c",
        "",
        "x" * 9000,
    ]:
        with pytest.raises(InvalidSignatureError):
            rotated.unsign(bad)
    other_purpose = CookieSigner([("k1", b"a" * 32)], max_age=60, clock=clock, namespace="csrf")
    with pytest.raises(InvalidSignatureError, match="bad signature"):
        other_purpose.unsign(signed_old)
    clock.now += 61
    with pytest.raises(InvalidSignatureError, match="expired"):
        rotated.unsign(signed_old)
    with pytest.raises(ValueError, match="32 bytes"):
        CookieSigner([("k", b"short")])


async def test_cookie_helpers_in_an_app(make_client: Callable[[FastAPI], Any]) -> None:
    signer = CookieSigner([("k1", b"c" * 32)], max_age=3600)
    app = FastAPI()

    @app.post("/login")
    async def login(response: Response) -> dict[str, bool]:
        set_signed_cookie(response, signer, "sid", "session-42", secure=False)
        return {"ok": True}

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str | None]:
        return {"sid": read_signed_cookie(request, signer, "sid")}

    async with make_client(app) as client:
        response = await client.post("/login")
        header = response.headers["set-cookie"]
        assert "HttpOnly" in header
        assert "Max-Age=3600" in header
        assert "SameSite=lax" in header
        assert (await client.get("/whoami")).json() == {"sid": "session-42"}
        client.cookies.set("sid", "k1.dGFtcGVyZWQ.1.bad")
        assert (await client.get("/whoami")).json() == {"sid": None}


async def test_replays_are_401_problems_over_http(
    engine: AsyncEngine, wallet: WalletSignIn, make_client: Callable[[FastAPI], Any]
) -> None:
    sender = RecordingMailSender()
    links = MagicLinkManager(
        engine, sender=sender, link_template="https://app.test/m?token={token}"
    )
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/magic")
    async def magic(body: dict[str, str]) -> dict[str, str]:
        return {"email": await links.consume(body["token"])}

    @app.post("/wallet")
    async def wallet_login(body: dict[str, str]) -> dict[str, str]:
        return {"address": await wallet.verify(body["message"], body["signature"])}

    await links.send("zoe@example.test")
    token = _token_from(sender, "zoe@example.test")
    text = wallet.build_message(ACCOUNT.address, await wallet.new_nonce()).to_text()
    signed = {"message": text, "signature": _sign(text)}
    async with make_client(app) as client:
        assert (await client.post("/magic", json={"token": token})).status_code == 200
        replay = await client.post("/magic", json={"token": token})
        assert replay.status_code == 401
        assert replay.headers["content-type"] == "application/problem+json"
        assert replay.json()["code"] == "auth.invalid_magic_link"
        assert (await client.post("/wallet", json=signed)).json() == {"address": ACCOUNT.address}
        replay = await client.post("/wallet", json=signed)
        assert replay.status_code == 401
        assert replay.json()["code"] == "auth.wallet_sign_in_failed"
