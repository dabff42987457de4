"""The migration that seals webhook endpoint secrets at rest, up and down, on both back ends
(the checks are shared with ingredient's: ``sealed_secrets_migration`` in
``services/conftest.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from htma.migrate import MIGRATIONS

REVISION = "0006"
ENV = "HTMA_WEBHOOK_SEALING_KEYS"  # the service's setting
FALLBACK_ENV = "SPAPS_WEBHOOKS_SEALING_KEYS"  # read when the setting is unset


@pytest.fixture
def migration(sealed_secrets_migration: Any) -> Any:
    return sealed_secrets_migration(MIGRATIONS, REVISION, ENV, FALLBACK_ENV)


@pytest.mark.parametrize("env", [ENV, FALLBACK_ENV])
async def test_upgrade_seals_and_downgrade_unseals(
    migration: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    await migration.upgrade_seals_and_downgrade_unseals(database_url, monkeypatch, env)


async def test_without_keys_rows_stay_and_a_sealed_table_refuses_to_downgrade(
    migration: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migration.without_keys_rows_stay_and_a_sealed_table_refuses_to_downgrade(
        database_url, monkeypatch
    )
