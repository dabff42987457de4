"""Typed settings: environment, .env, subclass prefixes, production refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict
from spaps_ops import InsecureSettingsError, OpsSettings, create_app

STRONG = "k3Y-9f!Qz8#rT2^mW7&pL1*vX6@nB4$hJ0"


class ServiceSettings(OpsSettings):
    model_config = SettingsConfigDict(env_prefix="TESTSVC_", env_file=None, extra="ignore")

    widget_limit: int = 3


def test_subclass_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTSVC_ENVIRONMENT", "production")
    monkeypatch.setenv("TESTSVC_SECRET_KEY", STRONG)
    monkeypatch.setenv("TESTSVC_WIDGET_LIMIT", "7")
    monkeypatch.setenv("TESTSVC_CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    monkeypatch.setenv("SPAPS_DEBUG", "true")  # the base prefix is not the service's
    settings = ServiceSettings()
    assert settings.is_production
    assert settings.widget_limit == 7
    assert settings.debug is False
    assert settings.cors_origins == ["https://a.example.com", "https://b.example.com"]
    assert settings.secret_key.get_secret_value() == STRONG
    assert STRONG not in repr(settings)


def test_cors_origins_accept_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTSVC_CORS_ORIGINS", '["https://a.example.com"]')
    assert ServiceSettings().cors_origins == ["https://a.example.com"]


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("SPAPS_SERVICE_NAME=from-dotenv\nSPAPS_DEBUG=true\n")
    settings = OpsSettings(_env_file=env)  # type: ignore[call-arg]
    assert settings.service_name == "from-dotenv"
    assert settings.debug is True


def test_production_names_every_offending_field_at_once(
    settings_factory: Callable[..., OpsSettings],
) -> None:
    settings = settings_factory(
        environment="production",
        debug=True,
        cors_origins=["*"],
        cors_allow_credentials=True,
    )
    with pytest.raises(InsecureSettingsError) as caught:
        create_app(settings, configure_logging=False)
    assert caught.value.fields == ("secret_key", "debug", "cors_origins")
    message = str(caught.value)
    for field in ("secret_key", "debug", "cors_origins"):
        assert field in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("secret", ["secret", "short-but-varied-1234", "a" * 40])
def test_production_refuses_weak_secrets(
    settings_factory: Callable[..., OpsSettings], secret: str
) -> None:
    settings = settings_factory(environment="production", secret_key=secret)
    with pytest.raises(InsecureSettingsError) as caught:
        settings.check_production()
    assert caught.value.fields == ("secret_key",)


def test_production_with_safe_settings_starts(
    settings_factory: Callable[..., OpsSettings],
) -> None:
    settings = settings_factory(
        environment="production",
        secret_key=STRONG,
        cors_origins=["https://app.example.com"],
        cors_allow_credentials=True,
    )
    assert isinstance(create_app(settings, configure_logging=False), FastAPI)


def test_development_tolerates_defaults(settings_factory: Callable[..., OpsSettings]) -> None:
    settings = settings_factory(debug=True)
    assert settings.insecure_fields() == {
        "secret_key": "is a default/weak value",
        "debug": "must be off",
    }
    settings.check_production()  # development: no error
