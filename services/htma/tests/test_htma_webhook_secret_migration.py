"""The revision that seals webhook endpoint secrets at rest, up and down, on both back ends
(checks shared with ingredient's: ``sealed_secrets_migration`` in ``services/conftest.py``)."""

from __future__ import annotations

from typing import Any

from htma.migrate import MIGRATIONS


async def test_revision_0006_seals_and_unseals(sealed_secrets_migration: Any) -> None:
    await sealed_secrets_migration(MIGRATIONS, "0006", "HTMA_WEBHOOK_SEALING_KEYS")
