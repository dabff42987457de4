"""Endpoint secrets sealed at rest: AES-GCM with a key id, bound to the endpoint row."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import standardwebhooks
from spaps_jobs import Outbox
from spaps_webhooks import (
    SealingKey,
    SecretSealer,
    SecretSealingError,
    URLGuard,
    Webhooks,
    WebhookSecret,
    WebhookTables,
    reseal_secrets,
    seal_existing_secrets,
    unseal_secrets,
)
from spaps_webhooks._cli import main
from sqlalchemy import Engine, MetaData, create_engine, select, text, update

if TYPE_CHECKING:
    from conftest import Clock

K1 = SealingKey.generate("k1")
K2 = SealingKey.generate("k2")
# The secret the receiver processes of conftest.py verify with.
RECEIVER_SECRET = str(WebhookSecret(b"test-secret-for-the-webhook-receiver"))
GUARD = URLGuard(require_https=False, allow_networks=["127.0.0.0/8"])


def build(engine: Engine, sealer: SecretSealer | None, **options: Any) -> Webhooks:
    metadata = MetaData()
    webhooks = Webhooks(
        engine=engine,
        tables=WebhookTables(metadata),
        outbox=Outbox(metadata),
        guard=GUARD,
        sealer=sealer,
        timeout=2.0,
        **options,
    )
    webhooks.create_tables()
    return webhooks


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sealed.db'}"
    else:
        pg: str = request.getfixturevalue("postgres_url")
        url = pg.replace("postgresql://", "postgresql+psycopg://", 1)
    made = create_engine(url)
    yield made
    made.dispose()


def raw_dump(engine: Engine, table: str) -> str:
    """Every value of every row, as the database returns it (no library code involved)."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608 -- test table
    return repr(rows)


def key_forms(secret: str) -> list[str]:
    """The spellings of a secret a dump could show: whsec_, base64 and hex of its key."""
    parsed = WebhookSecret.parse(secret)
    return [secret, secret.removeprefix("whsec_"), parsed.key.hex()]


def test_seal_round_trip_and_format() -> None:
    sealer = SecretSealer([K1])
    sealed = sealer.seal("whsec_abc", endpoint_id="ep_1")
    assert sealed.startswith("sealed:v1:k1:")
    assert "abc" not in sealed
    assert sealer.open(sealed, endpoint_id="ep_1") == "whsec_abc"
    # A fresh nonce each time: sealing twice never gives the same text.
    assert sealer.seal("whsec_abc", endpoint_id="ep_1") != sealed


def test_a_value_copied_to_another_endpoint_does_not_open() -> None:
    sealer = SecretSealer([K1])
    sealed = sealer.seal("whsec_abc", endpoint_id="ep_1")
    with pytest.raises(SecretSealingError, match="ep_2"):
        sealer.open(sealed, endpoint_id="ep_2")


def test_damaged_or_unknown_key_values_do_not_open() -> None:
    sealed = SecretSealer([K1]).seal("whsec_abc", endpoint_id="ep_1")
    with pytest.raises(SecretSealingError, match="'k1'"):
        SecretSealer([K2]).open(sealed, endpoint_id="ep_1")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SecretSealingError, match="does not open"):
        SecretSealer([K1]).open(flipped, endpoint_id="ep_1")
    # The key id is authenticated too: relabelling a value under another key fails.
    relabelled = sealed.replace("sealed:v1:k1:", "sealed:v1:k2:")
    same_key_other_id = SecretSealer([SealingKey("k2", K1.key)])
    with pytest.raises(SecretSealingError):
        same_key_other_id.open(relabelled, endpoint_id="ep_1")


def test_first_key_seals_every_key_opens() -> None:
    old = SecretSealer([K1]).seal("whsec_old", endpoint_id="ep_1")
    rotated = SecretSealer([K2, K1])
    assert rotated.primary_kid == "k2"
    assert rotated.kids == ("k2", "k1")
    assert rotated.open(old, endpoint_id="ep_1") == "whsec_old"
    assert rotated.needs_reseal(old)
    assert rotated.needs_reseal("whsec_plain")
    assert not rotated.needs_reseal(rotated.seal("whsec_new", endpoint_id="ep_1"))


def test_keys_parse_from_settings_strings_and_the_environment() -> None:
    assert SealingKey.parse(str(K1)) == K1
    assert "bytes" in repr(K1)
    assert K1.key.hex() not in repr(K1)
    env = {"KEYS": f"{K2}, {K1}"}
    sealer = SecretSealer.from_env("KEYS", environ=env)
    assert sealer is not None
    assert sealer.kids == ("k2", "k1")
    assert SecretSealer.from_env("KEYS", environ={}) is None
    for bad in ("nokid", "k1:not*base64", "k1:" + "QUJD", "bad id:" + str(K1).split(":")[1]):
        with pytest.raises(ValueError, match=r"sealing key|key id|16, 24 or 32"):
            SealingKey.parse(bad)
    with pytest.raises(ValueError, match="unique"):
        SecretSealer([K1, K1])
    with pytest.raises(ValueError, match="at least one"):
        SecretSealer([])
    with pytest.raises(TypeError):
        SecretSealer(K1)  # type: ignore[arg-type]


def test_raw_table_holds_no_secret_and_deliveries_sign_with_it(
    engine: Engine, start_receiver: Any, clock: Clock
) -> None:
    webhooks = build(engine, SecretSealer([K1]), now=clock)
    receiver = start_receiver()
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=RECEIVER_SECRET)
    other = webhooks.endpoints.create("clinic-1", "http://127.0.0.1:9/none")
    rotated = webhooks.rotate_secret("clinic-1", other.id, overlap=timedelta(hours=1))
    dump = raw_dump(engine, "webhook_endpoints")
    for secret in (RECEIVER_SECRET, other.secret, rotated.secret):
        for form in key_forms(secret):
            assert form not in dump
    assert dump.count("sealed:v1:k1:") == 3  # two current secrets and one previous
    # The sealed secret still signs: the receiver verifies the delivery.
    fired = webhooks.test_fire("clinic-1", endpoint.id)
    assert fired.attempt is not None
    assert fired.attempt.status_code == 200
    assert receiver.stats()["handled"] == [fired.message_id]
    webhooks.deliverer.close()


def test_rotation_overlap_signs_with_both_sealed_secrets(
    engine: Engine, start_receiver: Any, clock: Clock
) -> None:
    webhooks = build(engine, SecretSealer([K1]), now=clock)
    receiver = start_receiver()
    endpoint = webhooks.endpoints.create("clinic-1", receiver.url, secret=RECEIVER_SECRET)
    rotated = webhooks.rotate_secret("clinic-1", endpoint.id, overlap=timedelta(hours=1))
    fired = webhooks.test_fire("clinic-1", endpoint.id)
    assert fired.attempt is not None
    assert fired.attempt.succeeded  # the receiver knows only the previous secret
    [signature] = receiver.stats()["signatures"]
    m = webhooks.tables.messages
    with engine.connect() as conn:
        body = conn.execute(select(m.c.body).where(m.c.id == fired.message_id)).scalar_one()
    headers = {
        "webhook-id": fired.message_id,
        "webhook-timestamp": str(int(fired.attempt.started_at.timestamp())),
        "webhook-signature": signature,
    }
    for secret in (RECEIVER_SECRET, rotated.secret):
        standardwebhooks.Webhook(secret).verify(body, headers)
    webhooks.deliverer.close()


def test_a_secret_copied_to_another_endpoint_row_does_not_sign(
    engine: Engine, loopback_server: Any, clock: Clock
) -> None:
    webhooks = build(engine, SecretSealer([K1]), now=clock)
    server = loopback_server()
    url = f"http://127.0.0.1:{server.port}/hook"
    victim = webhooks.endpoints.create("clinic-1", url)
    attacker = webhooks.endpoints.create("clinic-2", url)
    e = webhooks.tables.endpoints
    with engine.begin() as conn:
        stolen = conn.execute(select(e.c.secret).where(e.c.id == victim.id)).scalar_one()
        conn.execute(update(e).where(e.c.id == attacker.id).values(secret=stolen))
    with pytest.raises(SecretSealingError):
        SecretSealer([K1]).open(stolen, endpoint_id=attacker.id)
    fired = webhooks.test_fire("clinic-2", attacker.id)
    assert fired.attempt is not None
    assert fired.attempt.status_code is None
    assert "SecretSealingError" in (fired.attempt.error or "")
    assert fired.delivery.status == "pending"  # retried on the schedule, never sent unsigned
    assert server.requests == []
    webhooks.deliverer.close()


def test_reseal_moves_every_row_to_the_first_key_in_batches(engine: Engine) -> None:
    old = build(engine, SecretSealer([K1]))
    created = [old.endpoints.create(f"o{n}", f"http://127.0.0.1:9/{n}") for n in range(5)]
    old.rotate_secret("o0", created[0].id, overlap=timedelta(hours=1))
    new_sealer = SecretSealer([K2, K1])
    new = build(engine, new_sealer)
    progress: list[tuple[int, int]] = []
    report = new.reseal_secrets(batch_size=2, on_progress=lambda d, t: progress.append((d, t)))
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert (report.rows, report.resealed, report.skipped) == (5, 5, 0)
    dump = raw_dump(engine, "webhook_endpoints")
    assert "sealed:v1:k1:" not in dump
    assert dump.count("sealed:v1:k2:") == 6
    # The old key can go: every value opens with the new key alone.
    only_new = SecretSealer([K2])
    e = new.tables.endpoints
    with engine.connect() as conn:
        rows = conn.execute(select(e)).all()
    opened = {r.id: only_new.open(r.secret, endpoint_id=r.id) for r in rows}
    assert opened == {c.id: c.secret for c in created} | {created[0].id: opened[created[0].id]}
    # Running it again changes nothing.
    assert reseal_secrets(engine, new.tables, only_new).resealed == 0
    for w in (old, new):
        w.deliverer.close()


def test_migration_helpers_seal_plaintext_rows_and_unseal_them(engine: Engine) -> None:
    plain = build(engine, None)
    created = [plain.endpoints.create("o", f"http://127.0.0.1:9/{n}") for n in range(3)]
    before = raw_dump(engine, "webhook_endpoints")
    assert all(c.secret in before for c in created)
    sealer = SecretSealer([K1])
    with engine.begin() as conn:
        assert seal_existing_secrets(conn, sealer, batch_size=2) == 3
        assert seal_existing_secrets(conn, sealer) == 0  # idempotent
    sealed = raw_dump(engine, "webhook_endpoints")
    assert not any(c.secret in sealed for c in created)
    # Without keys, a sealed row is refused rather than sent unsigned or garbled.
    e = plain.tables.endpoints
    with engine.connect() as conn:
        row = conn.execute(select(e).where(e.c.id == created[0].id)).one()
    with pytest.raises(SecretSealingError, match="no sealing keys"):
        plain.endpoints.rotate_secret("o", row.id)
    with engine.begin() as conn:
        assert unseal_secrets(conn, sealer) == 3
    assert raw_dump(engine, "webhook_endpoints") == before
    plain.deliverer.close()


def test_legacy_plaintext_rows_still_sign_and_are_sealed_by_reseal(engine: Engine) -> None:
    plain = build(engine, None)
    endpoint = plain.endpoints.create("o", "http://127.0.0.1:9/x")
    sealer = SecretSealer([K1])
    e = plain.tables.endpoints
    with engine.connect() as conn:
        row = conn.execute(select(e).where(e.c.id == endpoint.id)).one()
    assert sealer.open(row.secret, endpoint_id=endpoint.id) == endpoint.secret
    report = reseal_secrets(engine, "webhook_endpoints", sealer)
    assert report.resealed == 1
    assert endpoint.secret not in raw_dump(engine, "webhook_endpoints")
    plain.deliverer.close()


def test_cli_rotate_secrets_draws_progress_and_reports(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = create_engine(url)
    old = build(engine, SecretSealer([K1]))
    for n in range(3):
        old.endpoints.create("o", f"http://127.0.0.1:9/{n}")
    env = {**os.environ, "SPAPS_WEBHOOKS_SEALING_KEYS": f"{K2},{K1}"}
    done = subprocess.run(
        [sys.executable, "-m", "spaps_webhooks", "rotate-secrets", "--database-url", url,
         "--batch-size", "2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 endpoints, 3 re-sealed under 'k2', 0 skipped" in done.stdout
    bars = done.stderr.splitlines()
    assert bars[0].endswith("] 0/3")
    assert bars[-1] == "[" + "#" * 30 + "] 3/3"
    assert "sealed:v1:k1:" not in raw_dump(engine, "webhook_endpoints")
    old.deliverer.close()
    engine.dispose()


def test_cli_refuses_to_run_without_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("SPAPS_WEBHOOKS_SEALING_KEYS", raising=False)
    err = io.StringIO()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    status = main(["rotate-secrets", "--database-url", url], stderr=err)
    assert status == 2
    assert "not set" in err.getvalue()
    monkeypatch.setenv("SPAPS_WEBHOOKS_SEALING_KEYS", "broken")
    assert main(["rotate-secrets", "--database-url", "sqlite://"], stderr=err) == 2


def test_webhooks_validates_the_sealer(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'v.db'}")
    with pytest.raises(TypeError, match="SecretSealer"):
        build(engine, "k1:abc")  # type: ignore[arg-type]
    plain = build(engine, None)
    with pytest.raises(ValueError, match="no sealing keys"):
        plain.reseal_secrets()
    plain.deliverer.close()
    engine.dispose()


def test_migration_helpers_without_keys(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    plain = build(engine, None)
    endpoint = plain.endpoints.create("o", "http://127.0.0.1:9/x")
    with engine.begin() as conn:
        assert seal_existing_secrets(conn, None) == 0
        assert unseal_secrets(conn, None) == 0  # nothing sealed: nothing to open
    assert "no sealing keys configured" in caplog.text
    assert endpoint.secret in raw_dump(engine, "webhook_endpoints")
    with engine.begin() as conn:
        seal_existing_secrets(conn, SecretSealer([K1]))
    with engine.begin() as conn, pytest.raises(SecretSealingError, match="1 endpoint secrets"):
        unseal_secrets(conn, None)
    plain.deliverer.close()
