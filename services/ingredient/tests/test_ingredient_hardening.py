"""Attacks over HTTP: tenant roles editing the shared catalog, non-finite numbers,
API-key guessing; and the operator's grant, audit and revert of catalog edits."""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ingredient.catalog.models import CatalogEditorEvent
from ingredient.db import create_sessionmaker
from spaps_ops.db import open_engine
from spaps_ratelimit import MemoryStore
from spaps_ratelimit.testing import ManualClock
from sqlalchemy import select

Run = Callable[..., subprocess.CompletedProcess[str]]


def _assert_problem(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if code is not None:
        assert response.json()["code"] == code


async def test_a_fresh_tenant_lab_admin_cannot_edit_the_shared_catalog(
    seeded_url: str, make_client: Any, issuer: Any
) -> None:
    # What a sign-up gets: the first user of a new clinic is its lab admin.
    lab_admin = {"Authorization": f"Bearer {issuer.token('lab_admin', subject='signup-7')}"}
    async with make_client(database_url=seeded_url) as client:
        before = (await client.get("/v1/ingredients/A001", headers=lab_admin)).json()
        denied = await client.patch(
            "/v1/ingredients/A001", headers=lab_admin, json={"name": "Defaced"}
        )
        _assert_problem(denied, 403)
        after = (await client.get("/v1/ingredients/A001", headers=lab_admin)).json()
    assert after == before


async def test_a_nul_character_in_a_code_or_a_food_group_finds_nothing(
    seeded_url: str, make_client: Any, issuer: Any
) -> None:
    # PostgreSQL refuses NUL in a text parameter: sent on, it was a 500.
    staff = {"Authorization": f"Bearer {issuer.token(subject='staff-1')}"}
    async with make_client(database_url=seeded_url) as client:
        assert (await client.get("/v1/ingredients/A001", headers=staff)).status_code == 200
        missing = await client.get("/v1/ingredients/A0%001", headers=staff)
        _assert_problem(missing, 404, "ingredient.not_found")
        group = await client.get(
            "/v1/ingredients", params={"food_group": "Cereals\x00"}, headers=staff
        )
        assert group.status_code == 200, group.text
        assert group.json()["items"] == []
        assert group.json()["total"] == 0
        search = await client.get("/v1/ingredients", params={"q": "rice\x00"}, headers=staff)
        assert search.status_code == 200, search.text
        assert (
            search.json()["items"]
            == (await client.get("/v1/ingredients", params={"q": "rice"}, headers=staff)).json()[
                "items"
            ]
        )


def _cli(run_command: Run, url: str, *args: str) -> str:
    done = run_command("ingredient.cli", *args, "--database-url", url, cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_operator_grants_audits_and_reverts(
    seeded_url: str, make_client: Any, issuer: Any, run_command: Run
) -> None:
    staff = {"Authorization": f"Bearer {issuer.token(subject='staff-1')}"}
    assert "granted" in _cli(run_command, seeded_url, "editors", "grant", "staff-1", "--by", "ana")
    assert "staff-1\toperator:ana\t" in _cli(run_command, seeded_url, "editors", "list")
    async with make_client(database_url=seeded_url) as client:
        original = (await client.get("/v1/ingredients/A001", headers=staff)).json()
        edited = await client.patch(
            "/v1/ingredients/A001", headers=staff, json={"name": "Renamed", "fat_g": 9.5}
        )
        assert edited.status_code == 200, edited.text
        listed = _cli(run_command, seeded_url, "edits", "list", "--code", "A001")
        edits = [json.loads(line) for line in listed.splitlines()]
        assert len(edits) == 1
        edit = edits[0]
        assert edit["actor"] == "token:staff-1"
        assert edit["before"] == {"fat_g": original["nutrients"]["fat_g"], "name": original["name"]}
        assert edit["after"] == {"fat_g": 9.5, "name": "Renamed"}
        assert edit["at"]
        out = _cli(run_command, seeded_url, "edits", "revert", str(edit["id"]), "--by", "ana")
        assert f"reverted edit {edit['id']} of A001" in out
        restored = (await client.get("/v1/ingredients/A001", headers=staff)).json()
        assert restored["name"] == original["name"]
        assert restored["nutrients"] == original["nutrients"]
        history = [json.loads(line) for line in
                   _cli(run_command, seeded_url, "edits", "list").splitlines()]  # fmt: skip
        assert history[-1]["reverts"] == edit["id"]
        assert history[-1]["actor"] == "operator:ana"
        # Reverting it again finds the fields moved on: refused, nothing changed.
        again = run_command("ingredient.cli", "edits", "revert", str(edit["id"]), "--by", "ana",
                            "--database-url", seeded_url, cwd=Path.cwd())  # fmt: skip
        assert again.returncode == 1
        assert "changed since" in again.stderr
        _cli(run_command, seeded_url, "editors", "revoke", "staff-1", "--by", "ana")
        denied = await client.patch("/v1/ingredients/A001", headers=staff, json={"fat_g": 1.0})
        _assert_problem(denied, 403)
    assert _cli(run_command, seeded_url, "editors", "list") == ""
    async with open_engine(seeded_url) as engine, create_sessionmaker(engine)() as session:
        events = (await session.scalars(select(CatalogEditorEvent))).all()
    assert [(e.action, e.subject, e.actor) for e in events] == [
        ("granted", "staff-1", "operator:ana"),
        ("revoked", "staff-1", "operator:ana"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        '{"minerals": {"Ca": 1e999}}',
        '{"minerals": {"Ca": NaN}}',
        '{"minerals": {"Ca": -Infinity}}',
        '{"protein_g": NaN}',
        '{"energy_kj": 1e999}',
    ],
)
async def test_non_finite_numbers_are_refused(
    seeded_url: str, make_client: Any, editor_headers: dict[str, str], body: str
) -> None:
    headers = {**editor_headers, "Content-Type": "application/json"}
    async with make_client(database_url=seeded_url) as client:
        refused = await client.patch("/v1/ingredients/A006", headers=headers, content=body)
        _assert_problem(refused, 422, "ops.validation_failed")
        richest = (await client.get("/v1/minerals/Ca/richest", headers=editor_headers)).json()
        detail = (await client.get("/v1/ingredients/A006", headers=editor_headers)).json()
    assert richest["items"][0]["code"] != "A006"
    assert all(m["amount"] is None or math.isfinite(m["amount"]) for m in detail["minerals"])


async def test_api_key_guessing_runs_into_a_per_address_budget(
    seeded_url: str, make_client: Any, api_key: str
) -> None:
    clock = ManualClock()
    async with make_client(
        database_url=seeded_url,
        api_key_failure_limit="5/minute",  # pragma: allowlist secret
        ratelimit_store=MemoryStore(clock=clock),
        ratelimit_clock=clock,
    ) as client:
        statuses = [
            (await client.get("/v1/minerals", headers={"X-API-Key": f"ik_guess{i}_x"})).status_code
            for i in range(8)
        ]
        assert statuses[:6] == [401] * 6  # five within the budget; the sixth finds it spent
        assert statuses[6:] == [429, 429]
        # While blocked even the right key is refused unchecked: a guess learns nothing.
        blocked = await client.get("/v1/minerals", headers={"X-API-Key": api_key})
        _assert_problem(blocked, 429, "ratelimit.rate_limited")
        assert "x-request-id" in blocked.headers
        # On the public route too, where the answer is documented.
        public = await client.get("/v1/attribution", headers={"X-API-Key": api_key})
        _assert_problem(public, 429, "ratelimit.rate_limited")
        spec = (await client.get("/openapi.json")).json()
        entry = spec["paths"]["/v1/attribution"]["get"]["responses"]["429"]
        assert set(entry["content"]["application/problem+json"]["examples"]) == {
            "ratelimit.rate_limited"
        }
        clock.advance(int(blocked.headers["retry-after"]))
        assert (await client.get("/v1/minerals", headers={"X-API-Key": api_key})).status_code == 200
