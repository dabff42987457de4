"""The compose files: valid against the Compose Specification's JSON schema, wired to the
images' own commands, hardened in production, and configured with exactly the variables
the services' settings read (``.env.production.example``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import deploykit as kit
import pytest
import yaml
from spaps_ops import InsecureSettingsError

COMPOSE = kit.DEPLOY / "compose"
DEV = COMPOSE / "docker-compose.yml"
PROD = COMPOSE / "docker-compose.prod.yml"
EXAMPLE = COMPOSE / ".env.production.example"
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[?-])([^}]*))?\}")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("path", [DEV, PROD], ids=lambda p: p.name)
def test_compose_files_match_the_compose_specification(path: Path) -> None:
    result = check_schema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  api:\n    image: x\n    ports: 8000\n    restart: sometimes\n")
    result = check_schema(broken)
    assert result.returncode == 1
    assert "services.api" in result.stdout


@pytest.mark.parametrize("path", [DEV, PROD], ids=lambda p: p.name)
def test_every_container_runs_an_image_command_or_a_service_command(path: Path) -> None:
    services = load(path)["services"]
    for name, service in services.items():
        if name in {"postgres", "redis"}:
            continue
        owner = name.split("-")[0]
        assert owner in kit.SERVICES, name
        command = service.get("command", kit.start_command(owner))
        assert command[0] == owner, f"{name} runs {command}"
        if "migrate" in name:
            assert command == [owner, "migrate"]
            assert service.get("restart", "no") == "no"
        else:
            # The API (the image's command), htma's workers and beat, ingredient's seed import.
            assert command == kit.start_command(owner) or command[1] in {
                "worker",
                "beat",
                "import-catalog",
            }, name
        environment = service.get("environment", {})
        known = set(kit.variables(owner)) | set(kit.load_tool("config_reference").SERVER_VARIABLES)
        unknown = set(environment) - known
        assert not unknown, f"{name}: not settings of {owner}: {sorted(unknown)}"


def test_the_development_stack_has_both_services_a_worker_postgres_and_redis() -> None:
    services = load(DEV)["services"]
    assert {"htma", "htma-worker", "htma-beat", "ingredient", "postgres", "redis"} <= set(services)
    assert services["htma-worker"]["command"] == ["htma", "worker", "--no-beat"]  # + relay
    assert services["htma-beat"]["command"] == ["htma", "beat"]
    for name in ("htma", "htma-worker", "htma-beat"):
        conditions = services[name]["depends_on"]
        assert conditions["htma-migrate"]["condition"] == "service_completed_successfully"
    assert (
        services["ingredient"]["depends_on"]["ingredient-seed"]["condition"]
        == "service_completed_successfully"
    )
    init = (COMPOSE / "postgres-init.sql").read_text()
    urls = [
        value
        for service in services.values()
        for key, value in service.get("environment", {}).items()
        if key.endswith(("DATABASE_URL", "DEAD_LETTER_URL"))
    ]
    for url in urls:
        assert f"CREATE DATABASE {url.rsplit('/', 1)[1]};" in init, url


def test_production_containers_are_hardened() -> None:
    services = load(PROD)["services"]
    assert "postgres" not in services, "production uses external databases"
    for name, service in services.items():
        assert service["read_only"] is True, name
        assert service["user"] == "10001:10001", name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert all(port.startswith("127.0.0.1:") for port in service.get("ports", [])), name
    for name in kit.SERVICES:  # behind the proxy, the per-IP limits see the real clients
        assert f"{name.upper()}_TRUSTED_PROXIES" in services[name]["environment"], name
    for name in ("htma", "htma-worker", "htma-beat"):
        [secret] = services[name]["secrets"]
        assert secret["source"] == "htma-signing-keys"
        assert secret["target"] == kit.read_env_file(EXAMPLE)["HTMA_SIGNING_KEYS_PATH"]


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [*strings(key), *strings(value)]]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def interpolated(path: Path) -> dict[str, str]:
    """Variables the file's values interpolate -> their operator (``?``, ``:?``, ``-``)."""
    return {
        m.group(1): m.group(2) or ""
        for value in strings(load(path))
        for m in INTERPOLATION.finditer(value)
    }


def test_the_example_env_file_holds_exactly_what_production_reads() -> None:
    example = set(kit.read_env_file(EXAMPLE))
    settings = {name for service in kit.SERVICES for name in kit.variables(service)}
    used = interpolated(PROD)
    missing = settings - example
    assert not missing, f"settings missing from {EXAMPLE.name}: {sorted(missing)}"
    assert set(used) == example, (
        f"interpolated but not in the example: {sorted(set(used) - example)}; "
        f"in the example but unused: {sorted(example - set(used))}"
    )
    extra = example - settings
    assert extra == {
        "HTMA_IMAGE",
        "INGREDIENT_IMAGE",
        "HTMA_MIGRATE_DATABASE_URL",
        "INGREDIENT_MIGRATE_DATABASE_URL",
    }
    for name, operator in used.items():
        assert operator in {"?", ":?"}, f"{name}: production has no silent defaults"


def test_secrets_are_blank_in_the_example_and_required_by_production() -> None:
    example = kit.read_env_file(EXAMPLE)
    used = interpolated(PROD)
    secret = {n for s in kit.SERVICES for n, v in kit.variables(s).items() if v.secret}
    secret |= {"HTMA_MIGRATE_DATABASE_URL", "INGREDIENT_MIGRATE_DATABASE_URL"}
    for name in secret:
        assert example[name] == "", f"{name} has a value in a committed file"
        assert used[name] == ":?", f"{name} must be non-empty to start"


@pytest.mark.parametrize("service", kit.SERVICES)
def test_the_filled_example_is_a_valid_production_configuration(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    names = kit.variables(service)
    example = {k: v for k, v in kit.read_env_file(EXAMPLE).items() if k in names}
    filled = {k: v or (kit.secret_value(k) if names[k].secret else v) for k, v in example.items()}
    settings = kit.build_settings(service, filled, monkeypatch)
    assert settings.is_production
    settings.check_production()  # raises when anything is insecure
    # With the secret keys left blank as committed, production refuses to start.
    blank_keys = {k: "" if names[k].kind.startswith("secret") else v for k, v in filled.items()}
    with pytest.raises(InsecureSettingsError) as refused:
        kit.build_settings(service, blank_keys, monkeypatch).check_production()
    assert "secret_key" in refused.value.fields
