"""Seeded data for the services benchmark: one PostgreSQL database per service, 10,000
users' access tokens.

* **htma**: 10 clinics of 1,000 practitioners each (and one patient), 25 panels per
  clinic; every practitioner has a session opened through htma's own
  ``SessionManager.start`` with the claims htma's login puts in (roles, ``clinic``,
  ``name``, ``plan``), so each token is a real htma access token of a live session,
  signed with the key file the served apps load.
* **ingredient**: the catalog htma's recommendations read (``ingredient migrate`` and
  ``ingredient import-catalog``, the shipped IFCT seed); tokens are htma-style access
  tokens (issuer ``htma``, audience ``spaps``) of 10,000 users, signed with a key the
  driver publishes as a JWKS document, as htma publishes its keys.

Everything is built with the workspace's packages (the migrations of the newest
version, which the 0.4.0 anchors read as well).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import psycopg
from htma import Settings as HtmaSettings
from htma.accounts.models import User
from htma.clinics.models import Clinic
from htma.identity.stack import build_auth
from htma.migrate import MIGRATIONS
from htma.panels.models import Panel
from spaps_auth import JsonWebKey, KeySet, TokenIssuer
from spaps_ops.db import open_engine
from sqlalchemy import insert

CLINICS = 10
PANELS_PER_CLINIC = 25
TOKEN_TTL = 86_400
INGREDIENT_CODE = "D063"  # the catalog's example entry (spinach)


def create_database(admin_url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``admin_url``; its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` (after the servers on it stopped)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clinic_of(run: str, user: int) -> str:
    """The clinic of practitioner ``user`` (users alternate over the clinics)."""
    return f"b{run}-c{user % CLINICS}"


async def seed_htma(url: str, keys_path: Path, run: str, users: int) -> list[str]:
    """Migrate, insert clinics, users and panels, open a session per user; their tokens."""
    await MIGRATIONS.upgrade(url)
    settings = HtmaSettings(  # type: ignore[call-arg]  # pydantic-settings init option
        database_url=url, signing_keys_path=keys_path, access_ttl=TOKEN_TTL, _env_file=None
    )
    async with open_engine(url) as engine:
        clinics = [f"b{run}-c{c}" for c in range(CLINICS)]
        people = [
            {"id": f"b{run}-u{u}", "clinic_id": clinic_of(run, u), "email": f"u{u}@{run}.bench",
             "display_name": f"Practitioner {u}", "role": "practitioner", "password_hash": None}
            for u in range(users)
        ] + [
            {"id": f"b{run}-p{c}", "clinic_id": clinic, "email": f"p{c}@{run}.bench",
             "display_name": f"Patient {c}", "role": "patient", "password_hash": None}
            for c, clinic in enumerate(clinics)
        ]  # fmt: skip
        minerals = {
            "calcium_mg_pct": 42.0, "magnesium_mg_pct": 3.1, "sodium_mg_pct": 24.0,
            "potassium_mg_pct": 9.5, "phosphorus_mg_pct": 15.0, "zinc_mg_pct": 11.0,
            "copper_mg_pct": 2.6, "iron_mg_pct": 2.0,
        }  # fmt: skip
        panels = [
            {"id": f"b{run}-c{c}-panel{n}", "tenant_id": clinic, "patient_id": f"b{run}-p{c}",
             "practitioner_id": f"b{run}-u{c}", "sampled_on": dt.date(2026, 11, 1 + n % 28),
             "status": "pending", **minerals}
            for c, clinic in enumerate(clinics)
            for n in range(PANELS_PER_CLINIC)
        ]  # fmt: skip
        async with engine.begin() as conn:
            await conn.execute(insert(Clinic), [{"id": c, "name": c} for c in clinics])
            await conn.execute(insert(User), people)
            await conn.execute(insert(Panel), panels)
        auth = build_auth(settings, engine)

        async def token(user: int) -> str:
            pair = await auth.sessions.start(
                f"b{run}-u{user}",
                roles=["practitioner"],
                extra={"clinic": clinic_of(run, user), "name": f"Practitioner {user}",
                       "plan": "standard"},
            )  # fmt: skip
            return pair.access_token

        tokens: list[str] = []
        for start in range(0, users, 50):
            chunk = range(start, min(users, start + 50))
            tokens += await asyncio.gather(*(token(u) for u in chunk))
    return tokens


def seed_ingredient(url: str) -> None:
    """Migrate and import the shipped catalog with the ``ingredient`` command."""
    command = Path(sys.executable).parent / "ingredient"
    subprocess.run(
        [str(command), "import-catalog", "--migrate", "--quiet", "--database-url", url],
        check=True,
        capture_output=True,
        timeout=600,
    )


def htma_style_tokens(key: JsonWebKey, users: int, run: str) -> list[str]:
    """Access tokens as htma issues them (issuer ``htma``, audience ``spaps``)."""
    issuer = TokenIssuer(keys=KeySet([key]), issuer="htma", audience="spaps", access_ttl=TOKEN_TTL)
    return [
        issuer.issue(f"b{run}-u{u}", roles=["practitioner"],
                     extra={"clinic": clinic_of(run, u), "plan": "standard"})
        for u in range(users)
    ]  # fmt: skip
