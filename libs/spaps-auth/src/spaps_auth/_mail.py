"""The mail-sender protocol and a development sender that records messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["MailMessage", "MailSender", "RecordingMailSender"]


@dataclass(frozen=True)
class MailMessage:
    """An e-mail to send."""

    to: str
    subject: str
    text: str
    html: str | None = None


class MailSender(Protocol):
    """Anything that can send a :class:`MailMessage` (SMTP, an e-mail API, ...)."""

    async def send(self, message: MailMessage) -> None:
        """Send ``message``; raise on failure."""


class RecordingMailSender:
    """Development/test sender: keeps every message in :attr:`messages`.

    .. versionadded:: 0.1.0
    """

    def __init__(self) -> None:
        self.messages: list[MailMessage] = []

    async def send(self, message: MailMessage) -> None:
        """Record ``message``."""
        self.messages.append(message)

    def last_to(self, address: str) -> MailMessage:
        """The most recent message to ``address``.

        Raises:
            LookupError: Nothing was sent to ``address``.
        """
        for message in reversed(self.messages):
            if message.to == address:
                return message
        raise LookupError(f"no message sent to {address}")
