"""Wallet sign-in (EIP-4361) with single-use nonces (extra ``wallet``)."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, utcnow
from ._errors import WalletSignInError
from ._siwe import SiweMessage
from ._tables import wallet_nonces

__all__ = ["WalletSignIn"]

_NONCE_ALPHABET = string.ascii_letters + string.digits
_SIGNATURE_RE = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")


def _recover(text: str, signature: str) -> str:
    try:
        from eth_account import Account  # noqa: PLC0415 - optional extra
        from eth_account.messages import encode_defunct  # noqa: PLC0415 - optional extra
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "wallet sign-in needs the extra: pip install 'spaps-auth[wallet]'"
        ) from exc
    recovered: Any = Account.recover_message(encode_defunct(text=text), signature=signature)
    return str(recovered)


class WalletSignIn:
    """Server side of Sign-In with Ethereum.

    Flow: :meth:`new_nonce` -> the client builds the message (or asks
    :meth:`build_message`) -> the wallet signs it -> :meth:`verify` checks domain, URI,
    chain, times, the signature (recovered with eth-account, EIP-191) and consumes the
    nonce, returning the checksummed address.

    Args:
        engine: Async engine holding the spaps-auth tables.
        domain: The RFC 3986 authority the message must name (e.g. ``"app.example"``).
        uri: The URI the message must name.
        chain_ids: Accepted chain ids.
        statement: Statement put in built messages.
        nonce_ttl: How long a nonce stays usable.
        clock: Returns the current aware UTC datetime.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        domain: str,
        uri: str,
        chain_ids: Iterable[int] = (1,),
        statement: str | None = "Sign in",
        nonce_ttl: timedelta = timedelta(minutes=10),
        clock: Now = utcnow,
    ) -> None:
        self._chain_ids = frozenset(chain_ids)
        if not domain or not uri or not self._chain_ids:
            raise ValueError("domain, uri and at least one chain id are required")
        if statement is not None and "\n" in statement:
            raise ValueError("statement must be one line")
        self._engine = engine
        self.domain = domain
        self.uri = uri
        self._statement = statement
        self._ttl = nonce_ttl
        self._clock = clock

    async def new_nonce(self) -> str:
        """Issue a fresh nonce (17 alphanumeric characters, ~100 bits)."""
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(17))
        now = self._clock()
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(wallet_nonces).values(
                    nonce=nonce, created_at=now, expires_at=now + self._ttl
                )
            )
        return nonce

    def build_message(
        self,
        address: str,
        nonce: str,
        *,
        chain_id: int | None = None,
        issued_at: datetime | None = None,
    ) -> SiweMessage:
        """The message a client should have its wallet sign."""
        issued = issued_at or self._clock()
        return SiweMessage(
            domain=self.domain,
            address=address,
            uri=self.uri,
            chain_id=chain_id if chain_id is not None else min(self._chain_ids),
            nonce=nonce,
            issued_at=issued,
            statement=self._statement,
            expiration_time=issued + self._ttl,
        )

    async def verify(self, message: str, signature: str) -> str:
        """Verify a signed message and consume its nonce; returns the address.

        Raises:
            WalletSignInError: Malformed message, wrong domain/URI/chain, expired,
                bad signature, or unknown/used (replayed) nonce.
        """
        try:
            parsed = SiweMessage.parse(message)
        except ValueError as exc:
            raise WalletSignInError(f"malformed message: {exc}") from None
        now = self._clock()
        if parsed.domain != self.domain:
            raise WalletSignInError("wrong domain")
        if parsed.uri != self.uri:
            raise WalletSignInError("wrong URI")
        if parsed.chain_id not in self._chain_ids:
            raise WalletSignInError("chain not accepted")
        if parsed.expiration_time is not None and parsed.expiration_time <= now:
            raise WalletSignInError("message expired")
        if parsed.not_before is not None and parsed.not_before > now:
            raise WalletSignInError("message not yet valid")
        if parsed.issued_at > now + timedelta(minutes=5):
            raise WalletSignInError("message issued in the future")
        if not isinstance(signature, str) or not _SIGNATURE_RE.match(signature):
            raise WalletSignInError("bad signature: expected 65 bytes as 0x-prefixed hex")
        try:
            recovered = _recover(message, signature)
        # eth-account raises assorted types (ValidationError, BadSignature...) for invalid
        # signatures; any failure to recover means the signature is bad.
        except Exception as exc:
            raise WalletSignInError(f"bad signature: {type(exc).__name__}") from None
        # The recovered address is EIP-55 checksummed; requiring an exact match also
        # enforces the checksum EIP-4361 asks for.
        if recovered != parsed.address:
            raise WalletSignInError("signature does not match the address")
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(wallet_nonces)
                .where(
                    wallet_nonces.c.nonce == parsed.nonce,
                    wallet_nonces.c.used_at.is_(None),
                    wallet_nonces.c.expires_at > now,
                )
                .values(used_at=now)
            )
        if result.rowcount != 1:
            raise WalletSignInError("unknown, expired or already used nonce")
        return parsed.address
