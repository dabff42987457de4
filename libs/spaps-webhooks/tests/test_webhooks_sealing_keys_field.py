"""``SealingKeys``: the settings field type services declare for their sealing keys."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from spaps_webhooks import SealingKey, SealingKeys, SecretSealer


class ServiceSettings(BaseModel):
    webhook_sealing_keys: SealingKeys = []


def test_a_comma_separated_value_gives_the_keys_in_order() -> None:
    first, second = SealingKey.generate("k2"), SealingKey.generate("k1")
    settings = ServiceSettings(webhook_sealing_keys=f" {first} , {second} ")
    keys = [k.get_secret_value() for k in settings.webhook_sealing_keys]
    assert SecretSealer(keys).kids == ("k2", "k1")
    assert str(first) not in repr(settings)  # SecretStr: never shown


def test_a_malformed_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as raised:
        ServiceSettings(webhook_sealing_keys="k1:not-base64-at-all")
    assert "webhook sealing keys" in str(raised.value)
    assert "not-base64-at-all" not in str(raised.value).split("input_value")[0]


def test_no_keys_is_allowed_here_production_settings_decide() -> None:
    assert ServiceSettings(webhook_sealing_keys="").webhook_sealing_keys == []
