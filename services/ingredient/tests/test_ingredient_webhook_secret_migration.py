"""The revision that seals webhook endpoint secrets at rest, up and down, on both back ends
(checks shared with htma's: ``sealed_secrets_migration`` in ``services/conftest.py``)."""

from __future__ import annotations

from typing import Any

from ingredient.migrate import MIGRATIONS


async def test_revision_0004_seals_and_unseals(sealed_secrets_migration: Any) -> None:
    await sealed_secrets_migration(MIGRATIONS, "0004", "INGREDIENT_WEBHOOK_SEALING_KEYS")
