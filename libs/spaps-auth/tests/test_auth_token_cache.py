"""The verified-token cache of ``TokenVerifier``: hits, expiry, revocation, keys, bounds.

A cache hit returns the very ``TokenClaims`` object the first verification built, so
``verify(t) is verify(t)`` tells a hit from a full verification through the public API.
Time is a settable clock shared by the issuer and the verifier: expiry is reached by
moving it, never by waiting.
"""

from __future__ import annotations

import pytest
from spaps_auth import (
    InvalidTokenError,
    JsonWebKey,
    KeySet,
    TokenExpiredError,
    TokenIssuer,
    TokenRevokedError,
    TokenVerifier,
)

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
START = 1_700_000_000.0


class Clock:
    """An epoch clock that moves only when the test sets ``now``."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed_issuer(keys: KeySet, clock: Clock) -> TokenIssuer:
    return TokenIssuer(keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)


class Revocations:
    """A revocation checker over in-memory sets; counts how often it is asked."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.sessions: set[str] = set()
        self.calls = 0

    async def is_revoked(self, jti: str, session_id: str | None) -> bool:
        self.calls += 1
        return jti in self.tokens or (session_id is not None and session_id in self.sessions)


class MutableKeys:
    """A key resolver whose keys the test can remove or replace (like a JWKS refresh)."""

    def __init__(self, *keys: JsonWebKey) -> None:
        self.keys = {key.kid: key for key in keys}

    def cached_key(self, kid: str) -> JsonWebKey | None:
        return self.keys.get(kid)

    async def fetch_key(self, kid: str) -> JsonWebKey:
        key = self.keys.get(kid)
        if key is None:
            raise InvalidTokenError("unknown kid")
        return key


def _verifier(keys: KeySet | MutableKeys, **options: object) -> TokenVerifier:
    # Without a ``clock`` option the verifier reads the wall clock: those tests issue
    # tokens valid for the default 15 minutes and never look at time.
    return TokenVerifier(
        keys=keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["EdDSA", "RS256", "HS256"],
        **options,  # type: ignore[arg-type]
    )


def _change_one_character(token: str, segment: int) -> str:
    parts = token.split(".")
    middle = len(parts[segment]) // 2
    old = parts[segment][middle]
    new = B64_ALPHABET[(B64_ALPHABET.index(old) + 1) % len(B64_ALPHABET)]
    parts[segment] = parts[segment][:middle] + new + parts[segment][middle + 1 :]
    return ".".join(parts)


async def test_hits_return_the_first_verification(issuer: TokenIssuer, keys: KeySet) -> None:
    verifier = _verifier(keys)
    token = issuer.issue("user-1", roles=["writer"])
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    assert await verifier.averify(token) is first  # verify and averify share the cache
    other = issuer.issue("user-1", roles=["writer"])
    assert verifier.verify(other) is not first


async def test_cached_tokens_expire_on_the_clock(
    timed_issuer: TokenIssuer, keys: KeySet, clock: Clock
) -> None:
    verifier = _verifier(keys, clock=clock)
    for_verify, for_averify = timed_issuer.issue("u", ttl=2), timed_issuer.issue("u", ttl=2)
    claims = verifier.verify(for_verify)
    assert claims.expires_at == START + 2
    assert verifier.verify(for_verify) is claims
    averified = await verifier.averify(for_averify)
    clock.now = START + 1.999  # still valid: hits
    assert verifier.verify(for_verify) is claims
    assert await verifier.averify(for_averify) is averified
    clock.now = START + 2  # a token is expired once exp <= now
    with pytest.raises(TokenExpiredError, match="expired"):
        verifier.verify(for_verify)
    with pytest.raises(TokenExpiredError, match="expired"):
        await verifier.averify(for_averify)
    # The entries are gone: a full verification reaches the same verdict.
    assert len(verifier._cache) == 0  # private, read-only here
    with pytest.raises(TokenExpiredError):
        verifier.verify(for_verify)
    with pytest.raises(TokenExpiredError):
        await verifier.averify(for_averify)


def test_hits_check_not_before_on_the_clock(
    timed_issuer: TokenIssuer, keys: KeySet, clock: Clock
) -> None:
    verifier = _verifier(keys, clock=clock)
    token = timed_issuer.issue("u")  # iat = nbf = START
    first = verifier.verify(token)
    clock.now = START - 1  # the clock stepped back: the cached token is not valid yet
    with pytest.raises(InvalidTokenError, match="not yet valid"):
        verifier.verify(token)
    clock.now = START  # ... and it stayed cached
    assert verifier.verify(token) is first
    # A token from the future fails the full verification the same way.
    ahead = TokenIssuer(keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=lambda: START + 10)
    with pytest.raises(InvalidTokenError, match="not yet valid"):
        verifier.verify(ahead.issue("u"))


def test_leeway_applies_to_hits(timed_issuer: TokenIssuer, keys: KeySet, clock: Clock) -> None:
    token = timed_issuer.issue("u", ttl=10)  # exp = START + 10
    clock.now = START + 20
    lenient = _verifier(keys, leeway=30, clock=clock)
    assert lenient.verify(token) is lenient.verify(token)
    with pytest.raises(TokenExpiredError):
        _verifier(keys, clock=clock).verify(token)
    clock.now = START + 40  # past exp + leeway: the hit expires too
    with pytest.raises(TokenExpiredError):
        lenient.verify(token)


async def test_revocation_is_checked_on_every_hit(issuer: TokenIssuer, keys: KeySet) -> None:
    revocations = Revocations()
    verifier = _verifier(keys, revocation=revocations)
    token = issuer.issue("u", session_id="s-1")
    first = await verifier.averify(token)
    assert await verifier.averify(token) is first
    assert revocations.calls == 2
    revocations.tokens.add(first.token_id)
    with pytest.raises(TokenRevokedError):
        await verifier.averify(token)
    revocations.tokens.clear()
    revocations.sessions.add("s-1")
    with pytest.raises(TokenRevokedError):
        await verifier.averify(token)
    assert revocations.calls == 4


async def test_removed_key_invalidates_cached_tokens(ed_key: JsonWebKey) -> None:
    resolver = MutableKeys(ed_key)
    verifier = _verifier(resolver)
    token = TokenIssuer(keys=KeySet([ed_key]), issuer=ISSUER, audience=AUDIENCE).issue("u")
    first = verifier.verify(token)
    assert await verifier.averify(token) is first
    del resolver.keys[ed_key.kid]
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        verifier.verify(token)
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        await verifier.averify(token)


async def test_replaced_key_invalidates_cached_tokens(ed_key: JsonWebKey) -> None:
    resolver = MutableKeys(ed_key)
    verifier = _verifier(resolver)
    token = TokenIssuer(keys=KeySet([ed_key]), issuer=ISSUER, audience=AUDIENCE).issue("u")
    first = verifier.verify(token)
    # Same kid, different key: the cached verdict must not be reused.
    resolver.keys[ed_key.kid] = JsonWebKey.generate("EdDSA", kid=ed_key.kid)
    with pytest.raises(InvalidTokenError, match="invalid token"):
        verifier.verify(token)
    with pytest.raises(InvalidTokenError, match="invalid token"):
        await verifier.averify(token)
    # Same key material in a new key object (a JWKS refresh): verified in full again.
    resolver.keys[ed_key.kid] = ed_key.public()
    again = await verifier.averify(token)
    assert again is not first
    assert again == first
    assert verifier.verify(token) is again


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
async def test_tampered_token_is_rejected_while_the_original_is_cached(
    issuer: TokenIssuer, keys: KeySet, segment: int
) -> None:
    verifier = _verifier(keys)
    token = issuer.issue("user-1")
    first = verifier.verify(token)
    tampered = _change_one_character(token, segment)
    assert tampered != token
    for _ in range(2):  # a failed verification is not cached either
        with pytest.raises(InvalidTokenError):
            verifier.verify(tampered)
        with pytest.raises(InvalidTokenError):
            await verifier.averify(tampered)
    assert verifier.verify(token) is first


def test_cache_holds_at_most_cache_size_tokens_evicting_the_oldest(
    issuer: TokenIssuer, keys: KeySet
) -> None:
    verifier = _verifier(keys, cache_size=3)
    tokens = [issuer.issue(f"user-{i}") for i in range(6)]
    first = [verifier.verify(token) for token in tokens]
    # The three newest are hits (checked first: hits do not reorder the cache) ...
    for i in (5, 4, 3):
        assert verifier.verify(tokens[i]) is first[i]
    # ... the three oldest were evicted, and each miss evicts the oldest entry again.
    for i in (2, 1, 0):
        again = verifier.verify(tokens[i])
        assert again is not first[i]
        assert again == first[i]
    assert len(verifier._cache) == 3  # the bound itself (private, read-only here)


async def test_cache_size_zero_disables_the_cache(
    timed_issuer: TokenIssuer, keys: KeySet, clock: Clock
) -> None:
    verifier = _verifier(keys, cache_size=0, clock=clock)
    token = timed_issuer.issue("user-1")
    first = verifier.verify(token)
    assert first.subject == "user-1"
    again = await verifier.averify(token)
    assert again == first
    assert again is not first
    with pytest.raises(InvalidTokenError):
        verifier.verify(_change_one_character(token, 2))
    short = timed_issuer.issue("user-1", ttl=2)
    assert verifier.verify(short).expires_at == START + 2
    clock.now = START + 2
    with pytest.raises(TokenExpiredError):
        verifier.verify(short)


@pytest.mark.parametrize(
    ("cache_size", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_cache_size_is_validated(keys: KeySet, cache_size: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="cache_size"):
        _verifier(keys, cache_size=cache_size)


def test_clock_is_validated(keys: KeySet) -> None:
    with pytest.raises(TypeError, match="clock"):
        _verifier(keys, clock=START)
