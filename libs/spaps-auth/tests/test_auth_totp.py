"""TOTP: RFC 6238 vectors, enrolment, replay protection, recovery codes."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from spaps_auth import InvalidOtpError, TotpManager
from spaps_auth._tables import recovery_codes
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


class Time:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("t", "code"), RFC_VECTORS)
async def test_rfc6238_sha1_vectors(engine: AsyncEngine, t: int, code: str) -> None:
    clock = Time(t)
    manager = TotpManager(engine, issuer_name="HTMA", digits=8, valid_window=0, time_source=clock)
    assert manager.matching_step(RFC_SECRET, code) == t // 30
    await manager.begin_enrolment("u", account_name="u@example.test", secret=RFC_SECRET)
    await manager.confirm("u", code)
    assert await manager.is_enabled("u")


async def test_enrolment_verify_and_replay(engine: AsyncEngine) -> None:
    clock = Time(1_700_000_000)
    manager = TotpManager(engine, issuer_name="HTMA", time_source=clock)
    enrolment = await manager.begin_enrolment("alice", account_name="alice@example.test")
    uri = urlsplit(enrolment.provisioning_uri)
    assert uri.scheme == "otpauth"
    assert parse_qs(uri.query)["issuer"] == ["HTMA"]
    totp = pyotp.TOTP(enrolment.secret)
    with pytest.raises(InvalidOtpError):
        await manager.verify("alice", totp.at(clock.now))  # not confirmed yet
    codes = await manager.confirm("alice", totp.at(clock.now))
    assert len(codes) == 10
    with pytest.raises(InvalidOtpError, match="already used"):
        await manager.verify("alice", totp.at(clock.now))  # same step as the confirmation
    clock.now += 30
    await manager.verify("alice", totp.at(clock.now))
    with pytest.raises(InvalidOtpError):
        await manager.verify("alice", totp.at(clock.now))  # replay
    clock.now += 30
    with pytest.raises(InvalidOtpError):
        await manager.verify("alice", totp.at(clock.now - 60))  # older step than the last used
    await manager.verify("alice", totp.at(clock.now + 30))  # one step of drift is accepted
    for wrong in ["000000", "12345", "abcdef", ""]:
        with pytest.raises(InvalidOtpError):
            await manager.verify("alice", wrong)
    with pytest.raises(ValueError, match="already enabled"):
        await manager.begin_enrolment("alice", account_name="alice@example.test")


async def test_recovery_codes_single_use_and_hashed(engine: AsyncEngine) -> None:
    clock = Time(1_700_000_000)
    manager = TotpManager(engine, issuer_name="HTMA", time_source=clock, recovery_code_count=3)
    enrolment = await manager.begin_enrolment("bob", account_name="bob")
    codes = await manager.confirm("bob", pyotp.TOTP(enrolment.secret).at(clock.now))
    async with engine.connect() as conn:
        stored = [r.code_hash for r in (await conn.execute(select(recovery_codes))).all()]
    assert not set(codes) & set(stored)
    assert await manager.use_recovery_code("bob", codes[0].upper()) == 2  # case/format tolerant
    with pytest.raises(InvalidOtpError):
        await manager.use_recovery_code("bob", codes[0])
    with pytest.raises(InvalidOtpError):
        await manager.use_recovery_code("mallory", codes[1])  # another user's code
    fresh = await manager.regenerate_recovery_codes("bob")
    with pytest.raises(InvalidOtpError):
        await manager.use_recovery_code("bob", codes[1])  # old set replaced
    assert await manager.use_recovery_code("bob", fresh[0]) == 2
    await manager.disable("bob")
    assert not await manager.is_enabled("bob")


def test_configuration_is_validated(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="digits"):
        TotpManager(engine, issuer_name="x", digits=7)
