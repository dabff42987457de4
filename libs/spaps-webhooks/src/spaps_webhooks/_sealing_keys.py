"""A pydantic field type for a service's webhook sealing keys, parsed and checked once."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, SecretStr

from ._sealing import SecretSealer


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check(value: list[SecretStr]) -> list[SecretStr]:
    if value:
        try:
            SecretSealer([key.get_secret_value() for key in value])
        except ValueError as exc:  # the message names the problem, never the key
            raise ValueError(f"webhook sealing keys: {exc}") from None
    return value


SealingKeys = Annotated[list[SecretStr], BeforeValidator(_split), AfterValidator(_check)]
"""``webhook_sealing_keys: Annotated[SealingKeys, NoDecode] = []`` in a service's settings:
comma-separated ``<kid>:<base64 key>`` (or a list), the sealing key first, each checked as
:class:`SecretSealer` would use it; an error names the problem, never the key. (``NoDecode``,
from pydantic-settings, keeps the environment value a plain string.) :func:`create_webhooks`
builds the sealer from the field.

.. versionadded:: 0.3.0
"""
