"""EIP-4361 (Sign-In with Ethereum) messages: building and strict parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["SiweMessage"]

_HEADER = " wants you to sign in with your Ethereum account:"
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9]{8,}$")
_FIELDS = (
    ("uri", "URI"),
    ("version", "Version"),
    ("chain_id", "Chain ID"),
    ("nonce", "Nonce"),
    ("issued_at", "Issued At"),
    ("expiration_time", "Expiration Time"),
    ("not_before", "Not Before"),
    ("request_id", "Request ID"),
)
_REQUIRED = {"uri", "version", "chain_id", "nonce", "issued_at"}


def _timestamp(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} needs a time zone")
    return parsed


def _format(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class SiweMessage:
    """An EIP-4361 message. ``to_text()`` is what the wallet signs.

    .. versionadded:: 0.1.0
    """

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    statement: str | None = None
    version: str = "1"
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default=())
    scheme: str | None = None

    def to_text(self) -> str:
        """The exact text to sign (ABNF of EIP-4361)."""
        prefix = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [prefix + _HEADER, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines.append("")
        values = {
            "uri": self.uri,
            "version": self.version,
            "chain_id": str(self.chain_id),
            "nonce": self.nonce,
            "issued_at": _format(self.issued_at),
            "expiration_time": _format(self.expiration_time) if self.expiration_time else None,
            "not_before": _format(self.not_before) if self.not_before else None,
            "request_id": self.request_id,
        }
        for name, label in _FIELDS:
            if values[name] is not None:
                lines.append(f"{label}: {values[name]}")
        if self.resources:
            lines.append("Resources:")
            lines.extend(f"- {r}" for r in self.resources)
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> SiweMessage:  # noqa: PLR0912 - one linear pass over a fixed grammar
        """Parse a message strictly (field order and spelling as in EIP-4361).

        Raises:
            ValueError: The text is not a well-formed EIP-4361 message.
        """
        if not isinstance(text, str) or len(text) > 8192:
            raise ValueError("message must be a string of at most 8192 characters")
        lines = text.split("\n")
        if len(lines) < 8 or not lines[0].endswith(_HEADER):
            raise ValueError("not an EIP-4361 message")
        origin = lines[0][: -len(_HEADER)]
        scheme, sep, domain = origin.partition("://")
        if not sep:
            scheme, domain = "", origin
        if not domain or any(c.isspace() for c in domain):
            raise ValueError("invalid domain")
        address = lines[1]
        if not _ADDRESS_RE.match(address):
            raise ValueError("invalid address")
        if lines[2] != "":
            raise ValueError("expected an empty line after the address")
        index = 3
        statement = None
        if lines[index] != "":
            statement = lines[index]
            index += 1
        if lines[index] != "":
            raise ValueError("expected an empty line after the statement")
        index += 1
        values: dict[str, str] = {}
        for name, label in _FIELDS:
            if index < len(lines) and lines[index].startswith(label + ": "):
                values[name] = lines[index][len(label) + 2 :]
                index += 1
            elif name in _REQUIRED:
                raise ValueError(f"missing {label}")
        resources: list[str] = []
        if index < len(lines) and lines[index] == "Resources:":
            index += 1
            while index < len(lines) and lines[index].startswith("- "):
                resources.append(lines[index][2:])
                index += 1
        if index != len(lines):
            raise ValueError(f"unexpected content at line {index + 1}")
        if values["version"] != "1":
            raise ValueError("unsupported version")
        if not values["chain_id"].isdigit():
            raise ValueError("invalid chain id")
        if not _NONCE_RE.match(values["nonce"]):
            raise ValueError("invalid nonce")
        return cls(
            domain=domain,
            address=address,
            uri=values["uri"],
            chain_id=int(values["chain_id"]),
            nonce=values["nonce"],
            issued_at=_timestamp(values["issued_at"], "Issued At"),
            statement=statement,
            version="1",
            expiration_time=_timestamp(values["expiration_time"], "Expiration Time")
            if "expiration_time" in values
            else None,
            not_before=_timestamp(values["not_before"], "Not Before")
            if "not_before" in values
            else None,
            request_id=values.get("request_id"),
            resources=tuple(resources),
            scheme=scheme or None,
        )
