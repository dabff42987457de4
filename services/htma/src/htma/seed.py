"""``htma seed``: the reference data htma needs, created when missing and found otherwise.

* the token signing key file (``HTMA_SIGNING_KEYS_PATH``);
* an organisation (spaps-auth) mirroring each clinic, which invitations are issued in
  (created on a first invitation otherwise);
* the reference ranges are built in (versioned in code), so they are only reported.

Roles and their permissions are code too (:mod:`htma.clinics.roles`). Running it twice
creates nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from htma.clinics.models import Clinic
from htma.db import Base, create_sessionmaker
from htma.identity.keystore import SigningKeyStore
from htma.identity.stack import build_auth
from htma.results.reference import REFERENCE_VERSION
from htma.settings import Settings


@dataclass(frozen=True, slots=True)
class Seeded:
    """One piece of reference data, and whether this run created it."""

    what: str
    created: bool


async def seed(settings: Settings, engine: AsyncEngine) -> list[Seeded]:
    """Create the missing reference data; report each piece (created or found).

    Args:
        settings: the service settings (the signing key file).
        engine: the migrated database.
    """
    path = settings.signing_keys_path
    existed = path.exists()
    SigningKeyStore(path).load()  # creates the file with a first key when missing
    done = [Seeded(f"token signing keys {path}", created=not existed)]
    organisations = Base.metadata.tables["auth_organisations"]
    async with create_sessionmaker(engine)() as session:
        clinics = (await session.execute(select(Clinic.id, Clinic.name).order_by(Clinic.id))).all()
        known = set(await session.scalars(select(organisations.c.id)))
    orgs = build_auth(settings, engine).orgs
    for clinic_id, name in clinics:
        if clinic_id not in known:
            await orgs.ensure_organisation(clinic_id, name)
        done.append(Seeded(f"organisation of clinic {clinic_id}", created=clinic_id not in known))
    done.append(Seeded(f"reference ranges {REFERENCE_VERSION} (built in)", created=False))
    return done
