"""``spaps_jobs.settings.RedeliverySettings``: the relay's redelivery as settings fields."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from spaps_jobs import Redelivery
from spaps_jobs.settings import RedeliverySettings


class ServiceSettings(RedeliverySettings):
    """A service's own settings beside the mixin's."""

    database_url: str = "sqlite:///app.db"


def test_defaults_are_the_redelivery_defaults() -> None:
    settings = ServiceSettings()
    assert settings.redelivery() == Redelivery()
    assert settings.dead_letter_url is None


def test_fields_make_the_redelivery() -> None:
    settings = ServiceSettings(
        outbox_redeliver_after=30,
        outbox_redeliver_backoff=3,
        outbox_redeliver_max_delay=600,
        outbox_max_publishes=4,
        dead_letter_url="sqlite:///letters.db",
    )
    assert settings.redelivery() == Redelivery(
        after=timedelta(seconds=30), backoff=3.0, max_delay=timedelta(minutes=10), max_publishes=4
    )
    assert settings.dead_letter_url == "sqlite:///letters.db"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"outbox_redeliver_after": 0}, "outbox_redeliver_after"),
        ({"outbox_redeliver_backoff": 0.5}, "outbox_redeliver_backoff"),
        ({"outbox_max_publishes": 0}, "outbox_max_publishes"),
        ({"outbox_max_publishes": 101}, "outbox_max_publishes"),
        (
            {"outbox_redeliver_after": 600, "outbox_redeliver_max_delay": 60},
            "outbox_redeliver_max_delay must be >= outbox_redeliver_after",
        ),
    ],
)
def test_bad_values_are_refused_by_name(values: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServiceSettings(**values)  # type: ignore[arg-type]
