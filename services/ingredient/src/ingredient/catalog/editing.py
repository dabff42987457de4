"""Editors update ingredients; every change publishes ``ingredient.updated.v1``."""

from __future__ import annotations

from collections.abc import Mapping

from spaps_webhooks import Webhooks
from sqlalchemy.ext.asyncio import AsyncSession

from ingredient.catalog.minerals import get_mineral
from ingredient.catalog.models import NUTRIENT_COLUMNS, CatalogEdit, Ingredient
from ingredient.catalog.service import get_ingredient
from ingredient.errors import InvalidQueryError, VersionMismatchError
from ingredient.events import INGREDIENT_UPDATED, SUBSCRIBER, IngredientUpdatedV1

TEXT_FIELDS = ("name", "scientific_name", "local_names", "food_group")


async def update_ingredient(
    session: AsyncSession,
    webhooks: Webhooks,
    code: str,
    *,
    fields: Mapping[str, object],
    minerals: Mapping[str, float | None],
    expected_version: int | None,
    actor: str,
    reverts: int | None = None,
) -> tuple[Ingredient, list[str], CatalogEdit | None]:
    """Apply a change, record it and publish it, in one transaction (committed here).

    Args:
        session: a session.
        webhooks: publishes through the outbox (same transaction).
        code: the ingredient.
        fields: text fields and nutrients (``*_g``, ``energy_kj``) to set.
        minerals: symbol -> mg per 100 g (``None`` clears).
        expected_version: the version the editor read (``If-Match``); ``None`` skips the check.
        actor: who makes the change (``token:<sub>`` or ``operator:<name>``), recorded.
        reverts: the recorded edit this change reverts, if it is a revert.

    Returns:
        The ingredient, the names of the fields that changed (empty: nothing recorded or
        published) and the recorded edit (``None`` when nothing changed).

    Raises:
        NotFoundError: no such ingredient.
        VersionMismatchError: it changed since the editor read it.
        InvalidQueryError: an unknown field or a negative amount.
        UnknownMineralError: an unknown mineral symbol.
    """
    ingredient = await get_ingredient(session, code)
    if expected_version is not None and expected_version != ingredient.version:
        raise VersionMismatchError(
            f"{code} is at version {ingredient.version}, not {expected_version}: reload it"
        )
    values: dict[str, object] = {}
    for name, value in fields.items():
        if name not in TEXT_FIELDS and name not in NUTRIENT_COLUMNS:
            raise InvalidQueryError(f"{name!r} cannot be edited")
        if name == "name" and value is None:
            raise InvalidQueryError("an ingredient's name cannot be cleared")
        values[name] = value
    for symbol, amount in minerals.items():
        values[get_mineral(symbol).column] = amount
    for name, value in values.items():
        if isinstance(value, float | int) and value < 0:
            raise InvalidQueryError(f"{name} must not be negative")
    changed = sorted(name for name, value in values.items() if getattr(ingredient, name) != value)
    if not changed:
        return ingredient, [], None
    edit = CatalogEdit(
        code=ingredient.code,
        actor=actor,
        before={name: getattr(ingredient, name) for name in changed},
        after={name: values[name] for name in changed},
        reverts=reverts,
    )
    for name in changed:
        setattr(ingredient, name, values[name])
    session.add(edit)
    await session.flush()  # bumps the version (optimistic lock)
    webhooks.publish(
        session,
        INGREDIENT_UPDATED,
        IngredientUpdatedV1(
            code=ingredient.code, name=ingredient.name, version=ingredient.version, changed=changed
        ),
        owner=SUBSCRIBER,
    )
    await session.commit()
    return ingredient, changed, edit
