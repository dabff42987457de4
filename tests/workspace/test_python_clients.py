"""The services' typed Python clients (``clients/python/<service>``, ``tools/python_clients.py``).

* They are current: a fresh generation from ``api/<service>/openapi.json`` gives the
  committed bytes, and a changed document names the files it changes. They pass
  ``mypy --strict`` on their own.
* They work: each client calls its service served over real HTTP (uvicorn, SQLite), public
  and authenticated operations, and reads typed answers, problems included; the example of
  docs/api.md ("Python clients") runs as written.
* They stand alone: each installs into a fresh virtual environment with only its declared
  dependencies (httpx, attrs) and every module imports there.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from spaps_auth import PasswordHasher
from spaps_ops.testing import serve_app

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
CLIENTS = ROOT / "clients" / "python"
sys.path.insert(0, str(TOOLS))
for _service in ("htma", "ingredient"):  # the generated packages, not workspace members
    sys.path.insert(0, str(CLIENTS / _service))

import python_clients  # noqa: E402
from htma_client import AuthenticatedClient, Client  # noqa: E402
from htma_client.api.identity import login, signup  # noqa: E402
from htma_client.api.users import me  # noqa: E402
from htma_client.models import (  # noqa: E402
    LogInIn,
    LogInOut,
    Problem,
    SignUpIn,
    SignUpOut,
    UserOut,
    UserOutRole,
)
from ingredient_client import AuthenticatedClient as IngredientClient  # noqa: E402
from ingredient_client import Client as PublicIngredientClient  # noqa: E402
from ingredient_client.api.catalog import attribution, get_ingredient, list_or_search  # noqa: E402
from ingredient_client.models import (  # noqa: E402
    Attribution,
    IngredientDetail,
    IngredientPage,
)
from ingredient_client.models import Problem as IngredientProblem  # noqa: E402
from sdk_package import SERVICES, service_version  # noqa: E402

PASSWORD = "Correct-Horse-Battery-9"  # pragma: allowlist secret


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOLS / "python_clients.py"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


# --- current ---------------------------------------------------------------------------


@pytest.mark.slow
def test_committed_clients_are_current() -> None:
    result = _tool("--check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_each_client_carries_its_services_version(service: str) -> None:
    pyproject = (CLIENTS / service / "pyproject.toml").read_text()
    assert f'name = "{service}-client"' in pyproject
    assert f'version = "{service_version(service)}"\n' in pyproject


@pytest.mark.slow
def test_a_changed_document_makes_the_check_name_the_changed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a copy of the documents: the real files are never touched."""
    api = tmp_path / "api"
    for service in SERVICES:
        (api / service).mkdir(parents=True)
        shutil.copyfile(ROOT / "api" / service / "openapi.json", api / service / "openapi.json")
    document = json.loads((api / "ingredient" / "openapi.json").read_text())
    del document["components"]["schemas"]["IngredientDetail"]["properties"]["name"]
    (api / "ingredient" / "openapi.json").write_text(json.dumps(document))

    stale = python_clients.write_or_check(list(SERVICES), check=True, api=api)
    assert stale == ["clients/python/ingredient/ingredient_client/models/ingredient_detail.py"]

    monkeypatch.setattr(python_clients, "API", api)
    assert python_clients.main(["--check"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert "stale: clients/python/ingredient/ingredient_client/models/ingredient_detail.py" in error


@pytest.mark.slow
def test_regenerating_writes_what_the_check_expects(tmp_path: Path) -> None:
    """Writing into a copy of ``clients/python`` (config and templates): the committed bytes;
    a module left over from an old API is named by the check and removed by a regeneration,
    which keeps caches."""
    clients = tmp_path / "python"
    for folder in ("config", "templates"):
        shutil.copytree(CLIENTS / folder, clients / folder)
    assert python_clients.write_or_check(["ingredient"], check=False, clients=clients) == []
    assert python_clients.contents(clients / "ingredient") == python_clients.contents(
        CLIENTS / "ingredient"
    )
    leftover = clients / "ingredient" / "ingredient_client" / "api" / "removed" / "route.py"
    leftover.parent.mkdir()
    leftover.write_text("")
    stale = python_clients.write_or_check(["ingredient"], check=True, clients=clients)
    assert stale == [f"{clients.as_posix()}/ingredient/ingredient_client/api/removed/route.py"]
    cache = clients / "ingredient" / "ingredient_client" / "__pycache__" / "client.pyc"
    cache.parent.mkdir()
    cache.write_bytes(b"")
    assert python_clients.write_or_check(["ingredient"], check=False, clients=clients) == []
    assert not leftover.parent.exists()  # removed with its module
    assert cache.exists()  # not generated: kept, and ignored by the check
    assert python_clients.write_or_check(["ingredient"], check=True, clients=clients) == []


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_each_client_is_strictly_typed(service: str) -> None:
    """mypy --strict on the generated package alone (no workspace configuration)."""
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file=", "--strict", "--no-incremental",
         "--cache-dir=/dev/null", "-p", f"{service}_client"],
        cwd=CLIENTS / service, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_committed_configuration_leaves_the_version_to_the_tool(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "htma.yaml").write_text('package_version_override: "9.9.9"\n')
    with pytest.raises(python_clients.ClientError, match="the service's"):
        python_clients.config("htma", tmp_path)
    assert python_clients.config("htma").endswith(
        f'package_version_override: "{service_version("htma")}"\n'
    )


# --- working against the services -----------------------------------------------------


def _service_command(module: str, *args: str, cwd: Path) -> str:
    prefix = module.split(".", 1)[0].upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def htma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """htma on a migrated SQLite database, served by uvicorn on a free port."""
    from htma import Settings, create_app  # noqa: PLC0415  # the service, imported on use

    folder = tmp_path_factory.mktemp("htma")
    database = f"sqlite+aiosqlite:///{folder / 'htma.db'}"
    _service_command("htma.cli", "migrate", "--database-url", database, cwd=folder)
    settings = Settings(
        database_url=database,
        signing_keys_path=folder / "keys.json",
        broker_url=f"sqla+sqlite:///{folder / 'broker.db'}",
        compute_mode="inline",
        ingredient_url="http://127.0.0.1:9",  # a closed port: no stray local ingredient
    )
    fast = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    with serve_app(create_app(settings, hasher=fast, log_stream=io.StringIO())) as url:
        yield url


@pytest.fixture(scope="module")
def ingredient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """ingredient on a seeded SQLite database, served by uvicorn; (its URL, a pro API key
    made by ``ingredient create-api-key``)."""
    from ingredient import Settings, create_app  # noqa: PLC0415  # the service, imported on use

    folder = tmp_path_factory.mktemp("ingredient")
    database = f"sqlite+aiosqlite:///{folder / 'ingredient.db'}"
    cli = "ingredient.cli"
    _service_command(cli, "import-catalog", "--migrate", "--quiet", "--database-url", database,
                     cwd=folder)  # fmt: skip
    key = _service_command(cli, "create-api-key", "--name", "python-client", "--plan", "pro",
                           "--database-url", database, cwd=folder).strip()  # fmt: skip
    app = create_app(Settings(database_url=database), log_stream=io.StringIO())
    with serve_app(app) as url:
        yield url, key


@pytest.mark.slow
def test_htma_client_signs_up_logs_in_and_reads_the_user(htma_url: str) -> None:
    with Client(base_url=htma_url) as public:
        created = signup.sync(client=public, body=SignUpIn(
            clinic_id="py-client", clinic_name="Python Client", email="admin@py-client.example",
            password=PASSWORD, display_name="Ada Admin"))  # fmt: skip
        assert isinstance(created, SignUpOut), created
        assert created.user.role is UserOutRole.LAB_ADMIN
        logged_in = login.sync(client=public, body=LogInIn("admin@py-client.example", PASSWORD))
        assert isinstance(logged_in, LogInOut), logged_in
        refused = login.sync_detailed(client=public, body=LogInIn("admin@py-client.example", "x"))
    assert refused.status_code == 401
    assert isinstance(refused.parsed, Problem), refused.content
    assert refused.parsed.code  # the problem's code, typed
    with AuthenticatedClient(base_url=htma_url, token=logged_in.access_token) as session:
        user = me.sync(client=session)
    assert isinstance(user, UserOut), user
    assert (user.email, user.clinic_id, user.id) == (
        "admin@py-client.example", "py-client", created.user.id)  # fmt: skip


@pytest.mark.slow
def test_ingredient_client_reads_the_catalog_with_an_api_key(ingredient: tuple[str, str]) -> None:
    url, key = ingredient
    with PublicIngredientClient(base_url=url) as public:
        source = attribution.sync(client=public)
        anonymous = list_or_search.sync(client=public, q="spinach")  # type: ignore[arg-type]
    assert isinstance(source, Attribution), source
    assert "IFCT" in source.dataset + source.source
    assert isinstance(anonymous, IngredientProblem), anonymous  # a typed problem
    keyed = IngredientClient(base_url=url, token=key, prefix="", auth_header_name="X-API-Key")
    with keyed:
        page = list_or_search.sync(client=keyed, q="spinach", limit=5)
        assert isinstance(page, IngredientPage), page
        assert page.items, "the seed catalog has spinach"
        assert page.limit == 5
        detail = get_ingredient.sync(page.items[0].code, client=keyed)
    assert isinstance(detail, IngredientDetail), detail
    assert detail.name == page.items[0].name
    assert detail.minerals


def docs_example() -> str:
    """The Python block under "Python clients" in docs/api.md."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("\n## Python clients\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "docs/api.md: no Python example under 'Python clients'"
    return match.group(1)


@pytest.mark.slow
def test_the_documented_example_runs(
    htma_url: str, ingredient: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, key = ingredient
    names: dict[str, Any] = {"HTMA_URL": htma_url, "INGREDIENT_URL": url}
    names.update(API_KEY=key, PASSWORD=PASSWORD)
    exec(compile(docs_example(), "docs/api.md", "exec"), names)  # noqa: S102
    printed = capsys.readouterr().out
    assert "lab_admin" in printed
    assert "Spinach" in printed


# --- standing alone --------------------------------------------------------------------


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


CHECK_IMPORTS = textwrap.dedent("""
    import importlib, importlib.metadata as metadata, json, pkgutil, sys
    package = importlib.import_module(sys.argv[1])
    modules = [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    for name in modules:
        importlib.import_module(name)
    distribution = sys.argv[1].replace("_", "-")
    print(json.dumps({"modules": len(modules), "version": metadata.version(distribution),
                      "requires": metadata.requires(distribution),
                      "installed": sorted(d.metadata["Name"].lower()
                                          for d in metadata.distributions())}))
""")


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_each_client_installs_and_imports_with_only_its_dependencies(
    service: str, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    made = _run(*_uv(), "venv", "--quiet", "--python", sys.executable, str(venv))
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = [*_uv(), "pip", "install", "--python", str(python), str(CLIENTS / service)]
    # The dependencies are in uv's cache after the workspace's sync; else from the index.
    installed = _run(*install, "--offline")
    if installed.returncode != 0:
        installed = _run(*install)
    assert installed.returncode == 0, installed.stderr
    checked = _run(str(python), "-c", CHECK_IMPORTS, f"{service}_client", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    found = json.loads(checked.stdout)
    assert found["version"] == service_version(service)
    assert sorted(re.split(r"[<>=!~ ;]", r, maxsplit=1)[0] for r in found["requires"]) == [
        "attrs", "httpx"]  # fmt: skip
    assert found["modules"] > 20
    assert not {"fastapi", "pydantic", service, "spaps-ops"} & set(found["installed"])
