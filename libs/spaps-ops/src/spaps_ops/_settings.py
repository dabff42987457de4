"""Typed settings every service subclasses with its own environment prefix."""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ._errors import InsecureSettingsError

#: The development default; production refuses it.
DEFAULT_SECRET_KEY = "change-me-development-only"  # noqa: S105  # the known default production refuses
_WEAK_SECRETS = frozenset({"", "secret", "changeme", "change-me", "password", "dev", "test"})
MIN_SECRET_LENGTH = 32


class OpsSettings(BaseSettings):
    """Settings of a spaps service, read from the environment and ``.env``.

    Subclass it with your prefix and your own fields::

        class Settings(OpsSettings):
            model_config = SettingsConfigDict(env_prefix="HTMA_", env_file=".env")

    Build it in your app factory (never at import time) and pass it to ``create_app``,
    which calls :meth:`check_production` before anything starts.
    """

    model_config = SettingsConfigDict(
        env_prefix="SPAPS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    debug: bool = False
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    service_name: str = "spaps-service"
    service_version: str = "0.0.0"
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_json: bool = True
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False
    hsts_max_age: int = Field(default=63_072_000, ge=0)
    metrics_enabled: bool = True
    docs_enabled: bool = True
    maintenance_mode: bool = False
    maintenance_retry_after: int = Field(default=120, ge=1)
    readiness_timeout: float = Field(default=2.0, gt=0)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_size: int = Field(default=1_048_576, ge=0)
    body_read_timeout: float = Field(default=30.0, gt=0)

    @field_validator("cors_origins", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        # Accept ``a,b`` as well as a JSON list in the environment.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str]) -> list[str]:
        for host in value:
            wildcard = host.startswith("*") and host != "*"
            if "*" in host[1:] or (wildcard and not host.startswith("*.")):
                raise ValueError(f"allowed host {host!r}: only a leading '*.' wildcard is allowed")
        return value

    @property
    def is_production(self) -> bool:
        """Whether ``environment`` is ``production``."""
        return self.environment == "production"

    def insecure_fields(self) -> dict[str, str]:
        """Every field that must not be used in production, with the reason."""
        problems: dict[str, str] = {}
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY or secret.lower() in _WEAK_SECRETS:
            problems["secret_key"] = "is a default/weak value"  # noqa: S105  # a reason, not a secret
        elif len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 8:
            problems["secret_key"] = f"is weak (need >= {MIN_SECRET_LENGTH} varied characters)"
        if self.debug:
            problems["debug"] = "must be off"
        if "*" in self.cors_origins and self.cors_allow_credentials:
            problems["cors_origins"] = "wildcard '*' with cors_allow_credentials"
        if not self.allowed_hosts or "*" in self.allowed_hosts:
            problems["allowed_hosts"] = "must list the service's host names (no '*')"
        return problems

    def check_production(self) -> None:
        """In production, refuse insecure settings, naming every offending field at once.

        Raises:
            InsecureSettingsError: one error listing all offending fields.
        """
        if self.is_production:
            problems = self.insecure_fields()
            if problems:
                raise InsecureSettingsError(problems)
