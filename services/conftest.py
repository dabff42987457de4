"""Shared by both services' test suites (test modules cannot import each other):

* databases: ``sqlite_url``, ``pg_url`` and ``database_url`` (each back end);
  ``pool_from_environment`` (a service's pool sized by its settings);
* migrations: ``table_names`` and ``models_match`` (Alembic's autogenerate comparison);
* the webhook-secret sealing migration: ``sealed_secrets_migration``;
* settings: ``webhook_sealing_settings`` (the ``webhook_sealing_keys`` setting);
* the command line: ``run_command`` (a service's CLI as a real process) and ``serve``
  (``<service> serve`` as a real process, stopped after the test);
* fuzzing: ``openapi_fuzz``, a small OpenAPI-driven request generator (valid, boundary
  and hostile values for every parameter and body field, deterministic seed) and its
  request loop; ``schemathesis_fuzz`` and ``fuzz_tally`` (case counts in the summary).
"""

from __future__ import annotations

import base64
import os
import random
import re
import signal
import string
import subprocess
import sys
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from spaps_auth import AuditLog, AuditRetention
from spaps_ops import InsecureSettingsError
from spaps_ops.db import get_database, open_engine, sync_url
from spaps_ops.testing import DEADLINE, poll
from spaps_webhooks import SealingKey, SecretSealer, SecretSealingError, WebhookSecret
from sqlalchemy import Column, Connection, Integer, MetaData, create_engine, inspect, text

#: Only fails a command that hangs; a slow machine must never fail a test on its own.
COMMAND_DEADLINE = 900.0
#: How long a served process may take to listen on a loaded machine: a hang detector.
STARTUP_DEADLINE = 300.0

# --- databases ------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite file (the services' embedded default)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """An empty PostgreSQL database, asyncpg driver."""
    return postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each back end: SQLite (embedded default) and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


#: ``pool_from_environment(prefix, build)``: the (size, overflow) of the pool of the app
#: ``build()`` makes, holding five connections with its pool settings at 2 and 3.
PoolCheck = Callable[[str, Callable[[], Any]], Awaitable[tuple[int, int]]]


@pytest.fixture
def pool_from_environment(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> PoolCheck:
    """With ``<prefix>DATABASE_POOL_SIZE=2`` and ``<prefix>DATABASE_MAX_OVERFLOW=3`` in the
    environment, the app ``build()`` makes on PostgreSQL holds five connections at once;
    its pool's size and overflow at that moment."""

    async def check(prefix: str, build: Callable[[], Any]) -> tuple[int, int]:
        monkeypatch.setenv(f"{prefix}DATABASE_URL", pg_url)
        monkeypatch.setenv(f"{prefix}DATABASE_POOL_SIZE", "2")
        monkeypatch.setenv(f"{prefix}DATABASE_MAX_OVERFLOW", "3")
        engine = get_database(build()).engine
        try:
            async with AsyncExitStack() as stack:
                for _ in range(5):
                    await stack.enter_async_context(engine.connect())
                return engine.pool.size(), engine.pool.overflow()  # type: ignore[attr-defined]  # QueuePool's counters
        finally:
            await engine.dispose()

    return check


# --- migrations -----------------------------------------------------------------------


async def _table_names(url: str) -> set[str]:
    async with open_engine(url) as engine, engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


@pytest.fixture
def table_names() -> Callable[[str], Awaitable[set[str]]]:
    """``await table_names(url)``: the tables of a database."""
    return _table_names


def _diff(connection: Connection, metadata: MetaData, include_object: Any) -> list[Any]:
    opts: dict[str, Any] = {"compare_type": True}
    if include_object is not None:
        opts["include_object"] = include_object
    return list(compare_metadata(MigrationContext.configure(connection, opts=opts), metadata))


async def _models_match(
    url: str, metadata: MetaData, *, probe_table: str, include_object: Any = None
) -> None:
    async with open_engine(url) as engine, engine.connect() as connection:
        assert await connection.run_sync(_diff, metadata, include_object) == []
        # The comparison is not vacuous: a column missing from the migrations is reported.
        diverged = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(diverged)
        diverged.tables[probe_table].append_column(Column("invented_column", Integer))
        diff = await connection.run_sync(_diff, diverged, include_object)
    assert [entry[0] for entry in diff] == ["add_column"]
    assert diff[0][3].name == "invented_column"


@pytest.fixture
def models_match() -> Callable[..., Awaitable[None]]:
    """``await models_match(url, metadata, probe_table=..., include_object=None)``: the
    migrated database at ``url`` has exactly the models' schema, and a column added to
    ``probe_table`` would be reported (the check itself works)."""
    return _models_match


# --- the command line -----------------------------------------------------------------


def _run_command(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    prefix = module.split(".", 1)[0].upper() + "_"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=COMMAND_DEADLINE,
        check=False,
    )  # fmt: skip


@pytest.fixture
def run_command() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_command("htma.cli", *args, cwd=..., env=None)``: the command as a real process
    to completion, without the machine's ``<SERVICE>_*`` variables."""
    return _run_command


_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], str]]:
    """``serve("htma", {"HTMA_DATABASE_URL": ...})``: ``<service> serve --port 0`` as a real
    process in ``tmp_path`` (the machine's ``<SERVICE>_*`` variables replaced by the given
    ones), polled until it listens; its base URL. Stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(service: str, env: dict[str, str]) -> str:
        prefix = service.upper() + "_"
        environment = {k: v for k, v in os.environ.items() if not k.startswith(prefix)} | env
        log = tmp_path / f"{service}-serve.log"
        with log.open("w") as out:
            started.append(subprocess.Popen(
                [sys.executable, "-m", f"{service}.cli", "serve", "--port", "0"],
                cwd=tmp_path, env=environment, stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        process = started[-1]
        poll(lambda: _RUNNING.search(log.read_text()) is not None or process.poll() is not None,
             f"{service} serve to listen", deadline=STARTUP_DEADLINE)  # fmt: skip
        found = _RUNNING.search(log.read_text())
        assert found is not None, log.read_text()
        return f"http://127.0.0.1:{found.group(1)}"

    try:
        yield start
    finally:
        for process in started:
            _stop(process)


HOSTILE = [
    "", " ", "'", '"', "../../etc/passwd", "%00", "\u0000", "😀", "a" * 300, "-1",
    "1e309", "NaN", "null", "<script>", "SELECT 1;--", "\\", "ik_x_y", "whsec_x",
]  # fmt: skip


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def value(  # noqa: PLR0911, PLR0912 -- one branch per JSON Schema type
    schema: dict[str, Any], spec: dict[str, Any], rng: random.Random, depth: int = 0
) -> Any:
    """A value for ``schema``: mostly valid, sometimes beyond its bounds or hostile."""
    schema = _resolve(schema, spec)
    if rng.random() < 0.1:
        return rng.choice([*HOSTILE, None, -1, 0, 10**12, 3.5, True, [], {}])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return value(rng.choice(schema[key]), spec, rng, depth)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind == "integer":
        low = int(schema.get("minimum", schema.get("exclusiveMinimum", -5)))
        high = int(schema.get("maximum", schema.get("exclusiveMaximum", 10**6)))
        return rng.choice([low, high, low - 1, high + 1, rng.randint(low, high)])
    if kind == "number":
        return rng.choice([0.0, -1.0, 1e-9, 1e9, rng.uniform(0, 100)])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "array":
        if depth > 3:
            return []
        return [
            value(schema.get("items", {}), spec, rng, depth + 1) for _ in range(rng.randint(0, 3))
        ]
    if kind == "object":
        if depth > 3:
            return {}
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        out = {
            name: value(sub, spec, rng, depth + 1)
            for name, sub in props.items()
            if (name in required and rng.random() > 0.05) or rng.random() < 0.5
        }
        if not props and rng.random() < 0.5:
            out = {rng.choice(["Ca", "Mg", "Zn", "Xx"]): rng.uniform(-1, 50)}
        return out
    text = "".join(
        rng.choice(string.ascii_letters + string.digits + "-_ .") for _ in range(rng.randint(0, 20))
    )
    return rng.choice([text, schema.get("examples", [text])[0], *HOSTILE[:5]])


def conforms(body: Any, schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Shallow schema check: type of the document and required members of objects."""
    schema = _resolve(schema, spec)
    if schema.get("type") == "array":
        return isinstance(body, list) and all(
            conforms(i, schema.get("items", {}), spec) for i in body
        )
    if schema.get("type") == "object" or "properties" in schema:
        return isinstance(body, dict) and set(schema.get("required", ())) <= set(body)
    return True


def cases(spec: dict[str, Any], rng: random.Random, per_operation: int) -> list[tuple[Any, ...]]:
    out = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for _ in range(per_operation):
                url, query = path, {}
                for parameter in operation.get("parameters", []):
                    generated = value(parameter.get("schema", {}), spec, rng)
                    if parameter["in"] == "path":
                        segment = quote(str(generated), safe="") or "x"
                        url = url.replace("{" + parameter["name"] + "}", segment)
                    elif (
                        parameter["in"] == "query" and rng.random() < 0.7 and generated is not None
                    ):
                        query[parameter["name"]] = (
                            generated if not isinstance(generated, (list, dict)) else str(generated)
                        )
                body = None
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    body = value(content["application/json"]["schema"], spec, rng)
                declared = operation.get("responses", {})
                out.append((method.upper(), url, {"params": query, "json": body}, declared))
    return out


async def fuzz(
    client: Any,
    spec: dict[str, Any],
    generated: list[tuple[Any, ...]],
    identities: Sequence[dict[str, str]],
    extra_headers: Callable[[str], dict[str, str]] = lambda _url: {},
) -> int:
    """Send every generated request (each as the next of ``identities``, in turn, plus
    ``extra_headers(url)``) with ``client`` (an ``httpx.AsyncClient``): no 5xx, every
    4xx is problem+json, every 2xx body conforms. Returns how many 2xx were checked."""
    failures = []
    conformant = 0
    for index, (method, url, options, declared) in enumerate(generated):
        headers = {**identities[index % len(identities)], **extra_headers(url)}
        response = await client.request(method, url, headers=headers, **options)
        if response.status_code >= 500:
            failures.append((method, url, options, response.status_code, response.text[:200]))
        elif response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (method, url)
        elif response.content and str(response.status_code) in declared:
            content = declared[str(response.status_code)].get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                assert conforms(response.json(), schema, spec), (method, url, response.text[:200])
                conformant += 1
    assert failures == [], failures[:5]
    print(f"fuzzed {len(generated)} requests over {len(spec['paths'])} paths, {conformant} 2xx")
    return conformant


@pytest.fixture
def openapi_fuzz() -> SimpleNamespace:
    """``cases(spec, rng, per_operation)``, ``conforms(body, schema, spec)`` and
    ``await fuzz(client, spec, cases, identities, extra_headers)``."""
    return SimpleNamespace(cases=cases, conforms=conforms, fuzz=fuzz)


# --- the migration sealing webhook endpoint secrets (spaps-webhooks 0.3) --------------


def _insert_endpoints(database_url: str) -> dict[str, tuple[str, str | None]]:
    """Two endpoints with plaintext secrets, one rotating; returns id -> (secret, previous)."""
    rows = {
        "ep_a": (str(WebhookSecret.generate()), None),
        "ep_b": (str(WebhookSecret.generate()), str(WebhookSecret.generate(64))),
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        for endpoint_id, (secret, previous) in rows.items():
            conn.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, owner, url, description, event_types,"
                    " secret, previous_secret, enabled, created_at, updated_at) VALUES"
                    " (:id, 'clinic', 'https://hooks.example/x', '', '[]', :secret, :previous,"
                    " true, :now, :now)"
                ),
                {"id": endpoint_id, "secret": secret, "previous": previous, "now": now},
            )
    engine.dispose()
    return rows


def _insert_message(database_url: str) -> datetime:
    """A message stored before the migration (it was fanned out then); returns created_at."""
    created = datetime(2026, 12, 1, 12, 0, 0)
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO webhook_messages (id, owner, event_type, body, created_at)"
                " VALUES ('msg_old', 'clinic', 'x.v1', '{}', :created)"
            ),
            {"created": created},
        )
    engine.dispose()
    return created


def _message_columns(database_url: str) -> set[str]:
    """The columns of ``webhook_messages``, plus ``"<receipts table>"`` when it exists."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_columns("webhook_messages")}
        if inspect(conn).has_table("webhook_receipts"):
            names.add("<receipts table>")
    engine.dispose()
    return names


def _fanned_out_like_created(database_url: str) -> int:
    """Messages whose ``fanned_out_at`` equals their ``created_at``."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM webhook_messages WHERE fanned_out_at = created_at")
        ).scalar_one()
    engine.dispose()
    return int(count)


def _stored(database_url: str) -> dict[str, tuple[str, str | None]]:
    """The raw values of the secret columns, read without any library code."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, secret, previous_secret FROM webhook_endpoints"))
        found = {r.id: (r.secret, r.previous_secret) for r in rows}
    engine.dispose()
    return found


@dataclass
class SealedSecretsMigration:
    """Checks of a service's migration that seals ``webhook_endpoints`` secrets at rest.

    Attributes:
        migrations: the service's ``Migrations``.
        revision: the sealing revision.
        env: the service's sealing-keys variable (``<SERVICE>_WEBHOOK_SEALING_KEYS``).
        fallback_env: read by the migration when ``env`` is unset.
        key: the sealing key the checks use.
    """

    migrations: Any
    revision: str
    env: str
    fallback_env: str = "SPAPS_WEBHOOKS_SEALING_KEYS"
    key: SealingKey = field(default_factory=lambda: SealingKey.generate("m1"))

    def before_revision(self) -> str:
        """The revision the sealing one revises."""
        script = ScriptDirectory.from_config(self.migrations.alembic_config("sqlite://"))
        down = script.get_revision(self.revision).down_revision
        assert isinstance(down, str)
        return down

    async def upgrade_seals_and_downgrade_unseals(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch, env: str
    ) -> None:
        """With the keys in ``env`` (the setting or the fallback): the upgrade seals every
        stored secret (none left in plaintext), the downgrade restores them exactly."""
        for name in (self.env, self.fallback_env):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv(env, str(self.key))
        await self.migrations.upgrade(database_url, self.before_revision())
        plain = _insert_endpoints(database_url)
        _insert_message(database_url)
        assert {"fanned_out_at", "<receipts table>"}.isdisjoint(_message_columns(database_url))
        await self.migrations.upgrade(database_url, self.revision)
        assert {"fanned_out_at", "<receipts table>"} <= _message_columns(database_url)
        assert _fanned_out_like_created(database_url) == 1  # stored messages were fanned out
        sealed = _stored(database_url)
        dump = repr(sealed)
        for secret, previous in plain.values():
            for value in (secret, previous):
                if value is not None:
                    assert value not in dump
                    assert value.removeprefix("whsec_") not in dump
        assert dump.count("sealed:v1:m1:") == 3
        sealer = SecretSealer([self.key])
        opened = {
            endpoint_id: (
                sealer.open(secret, endpoint_id=endpoint_id),
                sealer.open(previous, endpoint_id=endpoint_id) if previous else None,
            )
            for endpoint_id, (secret, previous) in sealed.items()
        }
        assert opened == plain
        await self.migrations.downgrade(database_url, self.before_revision())
        assert _stored(database_url) == plain
        assert {"fanned_out_at", "<receipts table>"}.isdisjoint(_message_columns(database_url))
        await self.migrations.upgrade(database_url)
        assert (
            await self.migrations.current_revision(database_url) == self.migrations.head_revision()
        )

    async def without_keys_rows_stay_and_a_sealed_table_refuses_to_downgrade(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without keys the rows stay; a sealed table refuses to downgrade without them."""
        for name in (self.env, self.fallback_env):
            monkeypatch.delenv(name, raising=False)
        await self.migrations.upgrade(database_url, self.before_revision())
        plain = _insert_endpoints(database_url)
        await self.migrations.upgrade(database_url, self.revision)
        assert _stored(database_url) == plain  # development without keys: left as it was
        await self.migrations.downgrade(database_url, self.before_revision())
        assert _stored(database_url) == plain
        monkeypatch.setenv(self.env, str(self.key))
        await self.migrations.upgrade(database_url, self.revision)
        monkeypatch.delenv(self.env)
        with pytest.raises(SecretSealingError, match="sealed"):
            await self.migrations.downgrade(database_url, self.before_revision())
        assert await self.migrations.current_revision(database_url) == self.revision


@pytest.fixture(params=["setting", "fallback", "no keys"])
def sealed_secrets_migration(
    request: pytest.FixtureRequest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Any, str, str], Awaitable[None]]:
    """``await sealed_secrets_migration(MIGRATIONS, "0006", "HTMA_WEBHOOK_SEALING_KEYS")``:
    the service's revision that seals webhook endpoint secrets, checked up and down on each
    back end with the keys in the service's setting, in ``SPAPS_WEBHOOKS_SEALING_KEYS``
    (read when the setting is unset), and without keys (see :class:`SealedSecretsMigration`)."""

    async def check(migrations: Any, revision: str, env: str) -> None:
        migration = SealedSecretsMigration(migrations, revision, env)
        if request.param == "no keys":
            await migration.without_keys_rows_stay_and_a_sealed_table_refuses_to_downgrade(
                database_url, monkeypatch
            )
            return
        keys_in = env if request.param == "setting" else migration.fallback_env
        await migration.upgrade_seals_and_downgrade_unseals(database_url, monkeypatch, keys_in)

    return check


# --- settings: webhook sealing keys ------------------------------------------------------


def _sealing_keys_from_the_environment(settings: Any, env: str, monkeypatch: Any) -> None:
    new, old = SealingKey.generate("w2"), SealingKey.generate("w1")
    monkeypatch.setenv(env, f"{new}, {old}")
    loaded = settings()
    assert [k.get_secret_value() for k in loaded.webhook_sealing_keys] == [str(new), str(old)]
    assert str(new) not in repr(loaded)  # secret values
    sealer = loaded.webhook_sealer()
    assert sealer is not None
    assert sealer.kids == ("w2", "w1")  # the first key seals
    assert settings(webhook_sealing_keys=[]).webhook_sealer() is None


def _malformed_sealing_keys_rejected(settings: Any) -> None:
    short = base64.b64encode(b"x" * 10).decode()  # 10 bytes: not an AES key size
    with pytest.raises(ValidationError, match="webhook_sealing_keys") as caught:
        settings(webhook_sealing_keys=[f"w1:{short}"])
    assert short not in str(caught.value)
    twice = [str(SealingKey.generate("w1")), str(SealingKey.generate("w1"))]
    with pytest.raises(ValidationError, match="unique"):
        settings(webhook_sealing_keys=twice)


def _production_requires_sealing_keys(settings: Any, create_app: Callable[..., Any]) -> None:
    base = settings(environment="production")
    assert "webhook_sealing_keys" in base.insecure_fields()
    keyed = settings(
        environment="production", webhook_sealing_keys=[str(SealingKey.generate("w1"))]
    )
    assert "webhook_sealing_keys" not in keyed.insecure_fields()
    with pytest.raises(InsecureSettingsError, match="webhook_sealing_keys"):
        create_app(base, configure_logging=False)


@pytest.fixture(params=["from the environment", "malformed", "production"])
def webhook_sealing_settings(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Any, Callable[..., Any], str], None]:
    """``webhook_sealing_settings(Settings, create_app, "HTMA_WEBHOOK_SEALING_KEYS")``: the
    service's ``webhook_sealing_keys`` setting, one check a run: it comes from the
    environment variable as secrets (the first key seals; none, no sealer); malformed or
    repeated keys are rejected without echoing them; production requires it."""

    def check(settings: Any, create_app: Callable[..., Any], env: str) -> None:
        if request.param == "from the environment":
            _sealing_keys_from_the_environment(settings, env, monkeypatch)
        elif request.param == "malformed":
            _malformed_sealing_keys_rejected(settings)
        else:
            _production_requires_sealing_keys(settings, create_app)

    return check


# --- schemathesis ---------------------------------------------------------------------


def _schemathesis_fuzz(
    app: Any,
    identities: Sequence[dict[str, str]],
    max_examples: int,
    exempt: Mapping[str, str],
    single_use: Collection[str],
) -> int:
    # Imported here: only the two schemathesis tests pay for importing it.
    import schemathesis  # noqa: PLC0415
    from hypothesis import HealthCheck, Phase, given, settings  # noqa: PLC0415
    from hypothesis.errors import Unsatisfiable  # noqa: PLC0415
    from schemathesis import GenerationMode  # noqa: PLC0415
    from schemathesis.checks import CHECKS  # noqa: PLC0415
    from schemathesis.core.result import Ok  # noqa: PLC0415
    from schemathesis.python import asgi  # noqa: PLC0415

    failures: dict[str, str] = {}
    count = 0
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = list(schema.get_all_operations())
    # Every check schemathesis has, but those an operation is exempt from, with the reason.
    known = set(CHECKS.get_all_names())
    assert len(known) >= 14, sorted(known)
    for key in exempt:
        assert key.rpartition(" ")[2] in known, f"exempt from an unknown check: {key}"
    with asgi.get_client(schema.app) as http:
        for result in operations:
            assert isinstance(result, Ok), result  # the schema is valid
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=max_examples,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate],
                )
                def run(case: schemathesis.Case[Any]) -> None:
                    nonlocal count
                    headers = dict(identities[count % len(identities)])
                    count += 1
                    if mode is GenerationMode.POSITIVE:  # noqa: B023 -- run() runs in this iteration
                        _make_unique(case.headers, single_use, f"{count}.")
                    response = case.call(session=http, headers=headers)
                    label = case.operation.label
                    excluded = CHECKS.get_by_names(
                        [name for name in known if f"{label} {name}" in exempt]
                    )
                    try:
                        case.validate_response(response, headers=headers, excluded_checks=excluded)
                    # schemathesis reports a FailureGroup (an exception group) or an assertion
                    except (AssertionError, BaseExceptionGroup) as exc:
                        key = f"{case.operation.label} {response.status_code}"
                        failures.setdefault(key, f"{exc}"[:2000] + "\n" + case.as_curl_command())

                try:
                    run()
                except Unsatisfiable:
                    # nothing to make invalid (an operation without parameters or body)
                    assert mode is GenerationMode.NEGATIVE, operation.label
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert count >= len(operations) * 2
    return count


def _make_unique(headers: dict[str, Any] | None, names: Collection[str], prefix: str) -> None:
    """Start each of ``headers``' single-use values (an ``Idempotency-Key``: the same key
    with another request is refused, a rule no schema describes) with the case's own
    ``prefix``, keeping its length where it is longer than the prefix."""
    if headers is None:
        return
    wanted = {name.lower() for name in names}
    for name, value in headers.items():
        if name.lower() in wanted and isinstance(value, str):
            headers[name] = (prefix + value)[: max(len(value), len(prefix))]


@pytest.fixture
def fuzz_tally(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """Shared state of one schemathesis run; its case count goes to the session summary."""
    tally: dict[str, object] = {"cases": 0}
    yield tally
    request.node.user_properties.append(("schemathesis_cases", tally["cases"]))


@pytest.fixture
def schemathesis_fuzz(fuzz_tally: dict[str, object]) -> Callable[..., int]:
    """``schemathesis_fuzz(app, identities, max_examples, exempt=None, single_use=())``:
    positive and negative cases of every operation of the app's OpenAPI document (derandomized), run
    in-process over ASGI, each sent as the next of ``identities``, judged by every check
    schemathesis has (no 5xx; status, content type, headers and body conform; invalid
    data refused, valid data accepted; authentication enforced where declared...).
    ``exempt`` maps ``"METHOD /path check_name"`` to the reason that operation may fail
    that check. ``single_use`` names request headers whose value a valid request may not
    repeat with another request (``Idempotency-Key``): each positive case's value is made
    its own. Returns the number of cases (also in the session summary)."""

    def run(
        app: Any,
        identities: Sequence[dict[str, str]],
        max_examples: int,
        exempt: Mapping[str, str] | None = None,
        single_use: Collection[str] = (),
    ) -> int:
        fuzz_tally["cases"] = _schemathesis_fuzz(
            app, identities, max_examples, exempt or {}, single_use
        )
        return int(str(fuzz_tally["cases"]))

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many cases each schemathesis test generated (xdist workers included)."""
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "teardown":
                continue
            for name, count in getattr(report, "user_properties", ()):
                if name == "schemathesis_cases":
                    terminalreporter.write_line(f"schemathesis: {report.nodeid}: {count} cases")


# --- outbox confirmations ---------------------------------------------------------------


class RelayClock:
    """A relay's current time (``Relay(clock=...)``), moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> RelayClock:
    """The relay clock the confirmation tests move past the redelivery window."""
    return RelayClock()


CONFIRMATION_COLUMNS = {"confirmed_at", "redeliver_at", "publishes", "dead_lettered_at"}


def _outbox_shape(connection: Connection) -> tuple[set[str], set[str], set[str]]:
    found = inspect(connection)
    return (
        {c["name"] for c in found.get_columns("spaps_outbox")},
        {i["name"] for i in found.get_indexes("spaps_outbox")},
        set(found.get_table_names()),
    )


async def _confirmations_migration(migrations: Any, database_url: str, previous: str) -> None:
    await migrations.upgrade(database_url, previous)
    async with open_engine(database_url) as engine, engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO spaps_outbox (message_id, topic, payload, headers, created_at,"
                " attempts) VALUES ('m1', 't', '{}', '{}', CURRENT_TIMESTAMP, 0)"
            )
        )
    await migrations.upgrade(database_url)
    async with open_engine(database_url) as engine:
        async with engine.connect() as connection:
            columns, indexes, tables = await connection.run_sync(_outbox_shape)
            publishes = await connection.scalar(text("SELECT publishes FROM spaps_outbox"))
        assert columns >= CONFIRMATION_COLUMNS
        assert "ix_spaps_outbox_redeliver" in indexes
        assert "spaps_dead_letters" in tables
        assert publishes == 0  # existing rows: never published under confirmations
    await migrations.downgrade(database_url, previous)
    async with open_engine(database_url) as engine, engine.connect() as connection:
        columns, indexes, tables = await connection.run_sync(_outbox_shape)
        kept = await connection.scalar(text("SELECT count(*) FROM spaps_outbox"))
    assert not columns & CONFIRMATION_COLUMNS
    assert "ix_spaps_outbox_redeliver" not in indexes
    assert "spaps_dead_letters" not in tables
    assert kept == 1


@pytest.fixture
def confirmations_migration() -> Callable[[Any, str, str], Awaitable[None]]:
    """``await confirmations_migration(MIGRATIONS, database_url, previous)``: the revision
    after ``previous`` adds the outbox's confirmation columns (existing rows get
    ``publishes = 0``), its redelivery index and the dead-letter table; its downgrade
    removes them and keeps the outbox's rows."""
    return _confirmations_migration


async def _audit_archive_migration(migrations: Any, database_url: str, previous: str) -> None:
    await migrations.upgrade(database_url)
    now = datetime(2026, 12, 6, tzinfo=UTC)
    moments = iter([now - timedelta(days=400 - i) for i in range(3)] + [now, now])
    async with open_engine(database_url) as engine:
        log = AuditLog(engine, clock=lambda: next(moments))
        for action in ("a", "b", "c", "d", "e"):
            await log.append(action, actor="u1")
        async with engine.begin() as connection:
            archived = await AuditRetention(clock=lambda: now).purge_batch(
                connection, cutoff=now - timedelta(days=365), limit=100
            )
        assert archived == 3
        live = await log.verify()
        assert live.ok, live.reason
        assert (live.checked, live.checkpoint_seq) == (2, 3)  # from the checkpoint on
        whole = await log.verify(include_archive=True)
        assert whole.ok, whole.reason
    await migrations.downgrade(database_url, previous)
    async with open_engine(database_url) as engine, engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        seqs = (await connection.scalars(text("SELECT seq FROM auth_audit_log ORDER BY seq"))).all()
    assert not tables & {"auth_audit_archive", "auth_audit_checkpoints"}
    assert list(seqs) == [1, 2, 3, 4, 5]  # the archived entries came back, in order
    await migrations.upgrade(database_url)
    async with open_engine(database_url) as engine:
        again = await AuditLog(engine).verify()
    assert again.ok, again.reason
    assert (again.checked, again.checkpoint_seq) == (5, 0)


@pytest.fixture
def audit_archive_migration() -> Callable[[Any, str, str], Awaitable[None]]:
    """``await audit_archive_migration(MIGRATIONS, database_url, previous)``: the revision
    after ``previous`` adds spaps-auth's audit archive and checkpoints, where retention
    archives old entries with the chain still verifiable; its downgrade moves the archived
    entries back into the live log, which verifies from the start again."""
    return _audit_archive_migration
