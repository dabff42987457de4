"""What session operations return: token pairs and the device list's entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SessionInfo", "TokenPair"]


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh returns to the client."""

    access_token: str
    refresh_token: str
    session_id: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass(frozen=True)
class SessionInfo:
    """A session (device) as shown to its owner."""

    id: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str
