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
    assert caught.value.fields == ("secret_key", "debug", "cors_origins", "allowed_hosts")
    message = str(caught.value)
    for field in ("secret_key", "debug", "cors_origins", "allowed_hosts"):
        assert field in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("secret", ["secret", "short-but-varied-1234", "a" * 40])
def test_production_refuses_weak_secrets(
    settings_factory: Callable[..., OpsSettings], secret: str
) -> None:
    settings = settings_factory(
        environment="production", secret_key=secret, allowed_hosts=["api.example.com"]
    )
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
        allowed_hosts=["api.example.com", "*.internal.example.com"],
    )
    assert isinstance(create_app(settings, configure_logging=False), FastAPI)


def test_development_tolerates_defaults(settings_factory: Callable[..., OpsSettings]) -> None:
    settings = settings_factory(debug=True)
    assert settings.insecure_fields() == {
        "secret_key": "is a default/weak value",
        "debug": "must be off",
        "allowed_hosts": "must list the service's host names (no '*')",
    }
    settings.check_production()  # development: no error


@pytest.mark.parametrize(
    ("hosts", "field"),
    [
        (["*"], "allowed_hosts"),  # the development default: any host
        ([], "allowed_hosts"),
    ],
)
def test_production_requires_the_service_hosts(
    settings_factory: Callable[..., OpsSettings], hosts: list[str], field: str
) -> None:
    settings = settings_factory(environment="production", secret_key=STRONG, allowed_hosts=hosts)
    with pytest.raises(InsecureSettingsError) as caught:
        create_app(settings, configure_logging=False)
    assert caught.value.fields == (field,)


def test_hosts_and_proxies_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTSVC_ALLOWED_HOSTS", "api.example.com, *.example.org")
    monkeypatch.setenv("TESTSVC_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7")
    monkeypatch.setenv("TESTSVC_MAX_BODY_SIZE", "2048")
    settings = ServiceSettings()
    assert settings.allowed_hosts == ["api.example.com", "*.example.org"]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.7"]
    assert settings.max_body_size == 2048
    assert settings.body_read_timeout == 30.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_hosts", ["api.*.example.com"]),
        ("allowed_hosts", ["*example.com"]),
        ("trusted_proxies", ["not-an-address"]),
        ("max_body_size", -1),
        ("body_read_timeout", 0),
    ],
)
def test_request_guard_settings_are_validated(
    settings_factory: Callable[..., OpsSettings], field: str, value: object
) -> None:
    with pytest.raises(ValueError, match=field):
        settings_factory(**{field: value})
