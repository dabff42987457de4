"""argon2id hashing, rehash, off-loop execution, policy and the breached-password client."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from types import FrameType
from typing import Any

import argon2
import httpx
import pytest
import respx
from spaps_auth import (
    BreachCheckUnavailableError,
    BreachedPasswordChecker,
    PasswordHasher,
    PasswordPolicy,
    PasswordPolicyError,
)

FAST: dict[str, Any] = {"time_cost": 1, "memory_cost": 1024}


async def test_default_parameters_are_owasp() -> None:
    hashed = await PasswordHasher().hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_verify_and_wrong_password() -> None:
    hasher = PasswordHasher(**FAST)
    hashed = await hasher.hash("s3cret-passphrase")
    assert await hasher.verify(hashed, "s3cret-passphrase")
    assert not await hasher.verify(hashed, "wrong")
    assert not await hasher.verify("not-a-hash", "s3cret-passphrase")


async def test_rehash_when_parameters_change() -> None:
    old = PasswordHasher(**FAST)
    hashed = await old.hash("pw-123456789")
    new = PasswordHasher(time_cost=2, memory_cost=2048)
    assert new.needs_rehash(hashed)
    ok, updated = await new.verify_and_update(hashed, "pw-123456789")
    assert ok
    assert updated is not None
    assert not new.needs_rehash(updated)
    assert await new.verify(updated, "pw-123456789")
    # No rehash for a wrong password or current parameters.
    assert await new.verify_and_update(hashed, "nope") == (False, None)
    assert await new.verify_and_update(updated, "pw-123456789") == (True, None)


async def test_hashing_runs_off_the_event_loop() -> None:
    hasher = PasswordHasher(**FAST, max_threads=2)
    loop = asyncio.get_running_loop()
    hashing = [asyncio.create_task(hasher.hash(f"pw-{i}")) for i in range(4)]
    # One turn of the loop: each task starts, hands its hash to a worker thread and
    # suspends. A task hashing on the loop would have run to completion in that turn;
    # a worker finishing meanwhile only schedules its task's wake-up for a later turn.
    turn = loop.create_future()
    loop.call_soon(turn.set_result, None)
    await turn
    assert [task.done() for task in hashing] == [False] * 4
    hashes = await asyncio.gather(*hashing)
    assert [await hasher.verify(h, f"pw-{i}") for i, h in enumerate(hashes)] == [True] * 4
    hasher.close()


async def test_unknown_user_verifies_a_dummy_hash_with_current_parameters() -> None:
    hasher = PasswordHasher(**FAST)
    real = hasher.hash_sync("pw-123456789")
    assert not hasher.needs_rehash(hasher.dummy_hash)
    assert argon2.extract_parameters(hasher.dummy_hash) == argon2.extract_parameters(real)
    # Record every argon2 verification, with the thread it ran on and the hash it
    # checked: an unknown account must cost one real verification, like a known one.
    verify_code = argon2.PasswordHasher.verify.__code__
    verified: list[tuple[str, str]] = []

    def record(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is verify_code:
            verified.append((threading.current_thread().name, frame.f_locals["hash"]))

    threading.setprofile(record)  # threads started from now on: the hasher's pool
    try:
        assert await hasher.verify(real, "wrong") is False
        assert await hasher.verify(None, "wrong") is False
        assert await hasher.verify(None, "pw-123456789") is False
    finally:
        threading.setprofile(None)
        hasher.close()
    assert [checked for _, checked in verified] == [real, hasher.dummy_hash, hasher.dummy_hash]
    assert all(name.startswith("spaps-auth-argon2") for name, _ in verified)


def test_hasher_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="time_cost"):
        PasswordHasher(time_cost=0)
    with pytest.raises(TypeError, match="memory_cost"):
        PasswordHasher(memory_cost=1.5)  # type: ignore[arg-type]


# --- policy ---------------------------------------------------------------------------


async def test_policy_length_common_and_context() -> None:
    policy = PasswordPolicy()
    assert policy.local_violations("short") == ["too_short"]
    assert policy.local_violations("x" * 129) == ["too_long"]
    assert policy.local_violations("Password1") == ["common"]
    assert policy.local_violations("alice-in-wonderland", context=["Alice"]) == ["context"]
    # No composition rules: a long all-lowercase passphrase is fine.
    assert policy.local_violations("correct horse battery staple") == []
    with pytest.raises(PasswordPolicyError) as info:
        await policy.check("letmein")
    assert info.value.violations == ["too_short", "common"]
    assert info.value.status == 422
    assert info.value.extensions == {"violations": ["too_short", "common"]}


def test_policy_counts_code_points_after_nfkc() -> None:
    policy = PasswordPolicy()
    assert policy.local_violations("ﬀﬀﬀﬀ") == []  # 4 ligatures normalise to 8 letters
    assert policy.local_violations("😀😀😀😀😀😀😀") == ["too_short"]


def test_policy_validates_configuration() -> None:
    with pytest.raises(ValueError, match="min_length"):
        PasswordPolicy(min_length=6)
    with pytest.raises(ValueError, match="max_length"):
        PasswordPolicy(max_length=32)


def _sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324 - the range API's hash


RANGE = "https://api.pwnedpasswords.com/range/"


@respx.mock
async def test_breach_check_sends_only_prefix_with_padding() -> None:
    digest = _sha1("hunter2-but-longer")
    route = respx.get(RANGE + digest[:5]).mock(
        return_value=httpx.Response(
            200, text=f"0000000000000000000000000000000000A:0\r\n{digest[5:]}:42\r\n"
        )
    )
    checker = BreachedPasswordChecker()
    assert await checker.breach_count("hunter2-but-longer") == 42
    request = route.calls.last.request
    assert request.headers["Add-Padding"] == "true"
    assert request.url.path == "/range/" + digest[:5]
    assert digest[5:] not in str(request.url)
    assert b"hunter2" not in request.content


@respx.mock
async def test_padding_entries_do_not_count() -> None:
    digest = _sha1("a-padded-password")
    respx.get(RANGE + digest[:5]).mock(return_value=httpx.Response(200, text=f"{digest[5:]}:0\n"))
    assert not await BreachedPasswordChecker().is_breached("a-padded-password")


@respx.mock
async def test_policy_blocks_breached_password() -> None:
    digest = _sha1("tr0ub4dor&3-classic")
    respx.get(RANGE + digest[:5]).mock(return_value=httpx.Response(200, text=f"{digest[5:]}:3\n"))
    policy = PasswordPolicy(breach_checker=BreachedPasswordChecker())
    with pytest.raises(PasswordPolicyError) as info:
        await policy.check("tr0ub4dor&3-classic")
    assert info.value.violations == ["breached"]


@respx.mock
async def test_fail_open_logs_and_allows(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(url__startswith=RANGE).mock(return_value=httpx.Response(503))
    policy = PasswordPolicy(breach_checker=BreachedPasswordChecker(fail_open=True))
    with caplog.at_level(logging.WARNING, logger="spaps_auth.passwords"):
        await policy.check("a perfectly fine passphrase")
    assert "failing open" in caplog.text


@respx.mock
async def test_fail_closed_raises_503(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(url__startswith=RANGE).mock(side_effect=httpx.ConnectError("down"))
    checker = BreachedPasswordChecker(fail_open=False)
    with (
        caplog.at_level(logging.WARNING, logger="spaps_auth.passwords"),
        pytest.raises(BreachCheckUnavailableError) as info,
    ):
        await checker.is_breached("a perfectly fine passphrase")
    assert info.value.status == 503
    assert "failing closed" in caplog.text


def test_checker_validates_configuration() -> None:
    with pytest.raises(ValueError, match="http"):
        BreachedPasswordChecker(base_url="ftp://x")


@pytest.mark.skipif(
    not hasattr(os, "getpriority"), reason="not applicable: per-thread priority is POSIX-only"
)
async def test_worker_threads_run_at_lower_priority() -> None:
    hasher = PasswordHasher(**FAST, thread_niceness=7, max_threads=2)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def own_priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert await hasher._run(own_priority) == min(base + 7, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # loop untouched
    hasher.close()
    assert await hasher.verify(await hasher.hash("pw-after-close"), "pw-after-close")
    hasher.close()
    with pytest.raises(ValueError, match="max_threads"):
        PasswordHasher(max_threads=0)
    with pytest.raises(ValueError, match="thread_niceness"):
        PasswordHasher(thread_niceness=20)


@pytest.mark.skipif(
    not hasattr(os, "SCHED_IDLE"), reason="not applicable: SCHED_IDLE is Linux-only"
)
async def test_worker_threads_use_the_idle_scheduling_class() -> None:
    def own_policy() -> int:
        return os.sched_getscheduler(threading.get_native_id())

    idle = PasswordHasher(**FAST, max_threads=1)
    normal = PasswordHasher(**FAST, max_threads=1, idle_scheduling=False)
    try:
        assert await idle._run(own_policy) == os.SCHED_IDLE
        assert await normal._run(own_policy) == os.SCHED_OTHER
        assert own_policy() == os.SCHED_OTHER  # the event-loop thread is untouched
    finally:
        idle.close()
        normal.close()
