"""Turns request credentials (bearer token or API key) into a :class:`Principal`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._access import PermissionRegistry, Principal
from ._apikeys import ApiKeyManager
from ._errors import InvalidTokenError
from ._tokens import TokenClaims
from ._verifier import TokenVerifier

__all__ = ["Authenticator", "parse_bearer"]

# RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token
_BEARER_RE = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$")


def parse_bearer(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value.

    Raises:
        InvalidTokenError: The value is not a well-formed bearer credential.
    """
    match = _BEARER_RE.match(authorization)
    if match is None:
        raise InvalidTokenError("malformed Authorization header; expected 'Bearer <token>'")
    return match.group(1)


class Authenticator:
    """Authenticates a request from its headers; framework-agnostic.

    Args:
        verifier: Verifies bearer access tokens.
        registry: Expands token roles into permissions (optional).
        api_keys: Accepts API keys in ``api_key_header`` (optional).
        api_key_header: Header carrying API keys.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        verifier: TokenVerifier,
        registry: PermissionRegistry | None = None,
        api_keys: ApiKeyManager | None = None,
        api_key_header: str = "x-api-key",
    ) -> None:
        if not isinstance(verifier, TokenVerifier):
            raise TypeError("verifier must be a TokenVerifier")
        self.verifier = verifier
        self.registry = registry
        self.api_keys = api_keys
        self._api_key_header = api_key_header.lower()

    def principal_from_claims(self, claims: TokenClaims) -> Principal:
        """Build the principal of verified token claims (roles expanded by the registry)."""
        permissions = claims.permissions
        if self.registry is not None and claims.roles:
            permissions = permissions | self.registry.permissions_for(claims.roles)
        org = claims.raw.get("org")
        return Principal(
            subject=claims.subject,
            roles=claims.roles,
            permissions=permissions,
            session_id=claims.session_id,
            org_id=org if isinstance(org, str) else None,
            auth_method="bearer",
            claims=claims.raw,
        )

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The principal for these (lower-case keyed) headers; ``None`` without credentials.

        Raises:
            AuthenticationError: Credentials are present but invalid.
        """
        authorization = headers.get("authorization")
        if authorization is not None:
            token = parse_bearer(authorization)
            return self.principal_from_claims(await self.verifier.averify(token))
        if self.api_keys is not None:
            raw_key = headers.get(self._api_key_header)
            if raw_key is not None:
                record = await self.api_keys.verify(raw_key)
                return Principal(
                    subject=record.owner_id,
                    permissions=record.scopes,
                    auth_method="api_key",
                    claims={"api_key_id": record.id},
                )
        return None
