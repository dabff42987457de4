"""Magic-link sign-in: single use, short expiry, token hashed at rest."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, sha256_hex, utcnow
from ._errors import InvalidMagicLinkError
from ._mail import MailMessage, MailSender
from ._tables import magic_links

__all__ = ["MagicLinkManager"]

_SIGN_IN_TEXT = (
    "Sign in with this link (valid {minutes} minutes, once):\n\n{link}\n\n"
    "If you did not ask for it, ignore this e-mail."
)


class MagicLinkManager:
    """Sends sign-in links and consumes them exactly once.

    Args:
        engine: Async engine holding the spaps-auth tables.
        sender: Sends the e-mail (use :class:`~spaps_auth.RecordingMailSender` in
            development and tests).
        link_template: URL with a ``{token}`` placeholder, e.g.
            ``"https://app.example/auth/magic?token={token}"``.
        ttl: Link lifetime (default 15 minutes).
        subject: E-mail subject.
        clock: Returns the current aware UTC datetime.
        text: E-mail body with ``{link}`` and ``{minutes}`` placeholders (e.g. for a
            password-reset link rather than a sign-in link).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.3.0 ``text``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        sender: MailSender,
        link_template: str,
        ttl: timedelta = timedelta(minutes=15),
        subject: str = "Your sign-in link",
        clock: Now = utcnow,
        text: str = _SIGN_IN_TEXT,
    ) -> None:
        if "{token}" not in link_template:
            raise ValueError("link_template must contain '{token}'")
        if "{link}" not in text:
            raise ValueError("text must contain '{link}'")
        if not timedelta(0) < ttl <= timedelta(hours=24):
            raise ValueError("ttl must be positive and at most 24 hours")
        self._engine = engine
        self._sender = sender
        self._template = link_template
        self._ttl = ttl
        self._subject = subject
        self._clock = clock
        self._text = text

    @staticmethod
    def normalise_email(email: str) -> str:
        """Trim and lower-case an address (the key links are issued for)."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise ValueError("invalid e-mail address")
        return email

    async def send(self, email: str) -> None:
        """Create a link for ``email`` and mail it.

        Args:
            email: Recipient (normalised before storage).
        """
        email = self.normalise_email(email)
        token = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(magic_links).values(
                    token_hash=sha256_hex(token),
                    email=email,
                    created_at=now,
                    expires_at=now + self._ttl,
                )
            )
        link = self._template.replace("{token}", quote(token, safe=""))
        minutes = int(self._ttl.total_seconds() // 60)
        await self._sender.send(
            MailMessage(
                to=email,
                subject=self._subject,
                text=self._text.replace("{minutes}", str(minutes)).replace("{link}", link),
            )
        )

    async def consume(self, token: str) -> str:
        """Use a link's token; returns the e-mail address it was sent to.

        Raises:
            InvalidMagicLinkError: Unknown, expired or already used (replayed) token.
        """
        if not isinstance(token, str) or not 16 <= len(token) <= 128:
            raise InvalidMagicLinkError("invalid sign-in link")
        now = self._clock()
        digest = sha256_hex(token)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(magic_links)
                .where(
                    magic_links.c.token_hash == digest,
                    magic_links.c.used_at.is_(None),
                    magic_links.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(magic_links.c.email)
            )
            email = result.scalar_one_or_none()
        if email is None:
            raise InvalidMagicLinkError("invalid, expired or already used sign-in link")
        return str(email)
