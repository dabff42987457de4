"""``TokenVerifier.cache_info()``: the verified-token cache's hits, misses and sizes.

Every count is asserted exactly, with real signed tokens. Time is a settable clock
shared by the issuer and the verifier: expiry is reached by moving it, never by waiting.
"""

from __future__ import annotations

import threading

import pytest
from spaps_auth import (
    InvalidTokenError,
    JsonWebKey,
    KeySet,
    TokenCacheInfo,
    TokenExpiredError,
    TokenIssuer,
    TokenVerifier,
)

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"
START = 1_700_000_000.0


class Clock:
    """An epoch clock that moves only when the test sets ``now``."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Keys:
    """A key resolver whose keys the test can replace (like a JWKS refresh)."""

    def __init__(self, key: JsonWebKey) -> None:
        self.keys = {key.kid: key}

    def cached_key(self, kid: str) -> JsonWebKey | None:
        return self.keys.get(kid)

    async def fetch_key(self, kid: str) -> JsonWebKey:
        key = self.keys.get(kid)
        if key is None:
            raise InvalidTokenError("unknown kid")
        return key


def _verifier(keys: KeySet | Keys, **options: object) -> TokenVerifier:
    return TokenVerifier(
        keys=keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["EdDSA", "RS256", "HS256"],
        **options,  # type: ignore[arg-type]
    )


def _signed_by(key: JsonWebKey) -> str:
    return TokenIssuer(keys=KeySet([key]), issuer=ISSUER, audience=AUDIENCE).issue("user-1")


def test_a_new_verifier_reports_an_empty_cache(keys: KeySet) -> None:
    info = _verifier(keys).cache_info()
    assert info == TokenCacheInfo(hits=0, misses=0, maxsize=4096, currsize=0)
    assert isinstance(info, tuple)  # a NamedTuple, like functools' CacheInfo
    assert _verifier(keys, cache_size=7).cache_info().maxsize == 7


async def test_hits_and_misses_are_counted_per_verification(
    issuer: TokenIssuer, keys: KeySet
) -> None:
    verifier = _verifier(keys)
    first, second = issuer.issue("user-1"), issuer.issue("user-2")
    verifier.verify(first)
    assert verifier.cache_info() == (0, 1, 4096, 1)
    for _ in range(3):
        verifier.verify(first)
    await verifier.averify(first)  # verify and averify share the cache and its counts
    assert verifier.cache_info() == (4, 1, 4096, 1)
    await verifier.averify(second)
    verifier.verify(second)
    assert verifier.cache_info() == TokenCacheInfo(hits=5, misses=2, maxsize=4096, currsize=2)


def test_evicted_tokens_miss_again(issuer: TokenIssuer, keys: KeySet) -> None:
    verifier = _verifier(keys, cache_size=2)
    tokens = [issuer.issue(f"user-{i}") for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert verifier.cache_info() == (0, 3, 2, 2)
    verifier.verify(tokens[2])  # still cached
    verifier.verify(tokens[0])  # evicted by the third: verified in full again
    assert verifier.cache_info() == (1, 4, 2, 2)


def test_failed_full_verifications_are_misses_and_early_refusals_are_neither(
    keys: KeySet,
) -> None:
    verifier = _verifier(keys)
    # The verifier's kid, another key: the signature check fails.
    forged = _signed_by(JsonWebKey.generate("EdDSA", kid=keys.signing_key.kid))
    for _ in range(2):  # a failed verification is never cached: it misses every time
        with pytest.raises(InvalidTokenError, match="invalid token"):
            verifier.verify(forged)
    unknown_kid = _signed_by(JsonWebKey.generate("EdDSA", kid="elsewhere"))
    for refused in ("", "not-a-jwt", "x" * 9000, unknown_kid):
        with pytest.raises(InvalidTokenError):
            verifier.verify(refused)  # refused before the cache is consulted
    assert verifier.cache_info() == (0, 2, 4096, 0)


def test_expiry_on_a_hit_counts_as_a_hit_and_empties_the_entry(
    keys: KeySet,
) -> None:
    clock = Clock()
    verifier = _verifier(keys, clock=clock)
    issuer = TokenIssuer(keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    token = issuer.issue("user-1", ttl=2)
    verifier.verify(token)
    clock.now = START + 2
    with pytest.raises(TokenExpiredError):
        verifier.verify(token)  # answered from the cache, which drops the entry
    assert verifier.cache_info() == (1, 1, 4096, 0)
    with pytest.raises(TokenExpiredError):
        verifier.verify(token)  # now a full verification
    assert verifier.cache_info() == (1, 2, 4096, 0)


def test_a_replaced_key_turns_the_next_lookup_into_a_miss(ed_key: JsonWebKey) -> None:
    resolver = Keys(ed_key)
    verifier = _verifier(resolver)
    token = TokenIssuer(keys=KeySet([ed_key]), issuer=ISSUER, audience=AUDIENCE).issue("u")
    verifier.verify(token)
    resolver.keys[ed_key.kid] = ed_key.public()  # same material, new object: a refresh
    verifier.verify(token)
    verifier.verify(token)
    assert verifier.cache_info() == (1, 2, 4096, 1)


def test_a_disabled_cache_counts_every_verification_as_a_miss(
    issuer: TokenIssuer, keys: KeySet
) -> None:
    verifier = _verifier(keys, cache_size=0)
    token = issuer.issue("user-1")
    for _ in range(3):
        verifier.verify(token)
    assert verifier.cache_info() == (0, 3, 0, 0)


def test_counts_from_concurrent_threads_add_up(issuer: TokenIssuer, keys: KeySet) -> None:
    verifier = _verifier(keys)
    token = issuer.issue("user-1")
    verifier.verify(token)
    threads, calls = 4, 2000
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for _ in range(calls):
            verifier.verify(token)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert verifier.cache_info() == (threads * calls, 1, 4096, 1)
