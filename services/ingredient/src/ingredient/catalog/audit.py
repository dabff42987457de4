"""The platform permission to edit the shared catalog, and the record of every edit.

The catalog is read by every clinic, so no tenant role may change it: only htma users
an operator granted ``catalog_editors`` membership (``ingredient editors grant``) may.
Grants and revocations are audited (``catalog_editor_events``); every edit is recorded
with its author, time and the fields' values before and after (``catalog_edits``) and
can be reverted (``ingredient edits revert``), which is itself a recorded edit.
"""

from __future__ import annotations

from collections.abc import Sequence

from spaps_webhooks import Webhooks
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ingredient.catalog.editing import update_ingredient
from ingredient.catalog.minerals import MINERALS
from ingredient.catalog.models import CatalogEdit, CatalogEditor, CatalogEditorEvent
from ingredient.catalog.service import get_ingredient
from ingredient.errors import EditConflictError, IngredientError

_MINERAL_COLUMNS = {m.column: m.symbol for m in MINERALS}


async def is_catalog_editor(session: AsyncSession, subject: str) -> bool:
    """Whether the htma user ``subject`` holds the platform permission."""
    return await session.get(CatalogEditor, subject) is not None


async def grant(session: AsyncSession, subject: str, *, actor: str) -> bool:
    """Grant ``subject`` the permission (audited); ``False`` if it already held it."""
    if not subject.strip():
        raise IngredientError("the subject (an htma user id) must not be empty")
    if await is_catalog_editor(session, subject):
        return False
    session.add(CatalogEditor(subject=subject, granted_by=actor))
    session.add(CatalogEditorEvent(action="granted", subject=subject, actor=actor))
    await session.commit()
    return True


async def revoke(session: AsyncSession, subject: str, *, actor: str) -> bool:
    """Revoke ``subject``'s permission (audited); ``False`` if it held none."""
    held = await session.get(CatalogEditor, subject)
    if held is None:
        return False
    await session.delete(held)
    session.add(CatalogEditorEvent(action="revoked", subject=subject, actor=actor))
    await session.commit()
    return True


async def list_editors(session: AsyncSession) -> Sequence[CatalogEditor]:
    """Every holder of the permission, by subject."""
    return (await session.scalars(select(CatalogEditor).order_by(CatalogEditor.subject))).all()


async def list_edits(session: AsyncSession, code: str | None = None) -> Sequence[CatalogEdit]:
    """Recorded edits, oldest first (of one ingredient when ``code`` is given)."""
    query = select(CatalogEdit).order_by(CatalogEdit.id)
    if code is not None:
        query = query.where(CatalogEdit.code == code)
    return (await session.scalars(query)).all()


async def revert_edit(
    session: AsyncSession, webhooks: Webhooks, edit_id: int, *, actor: str
) -> CatalogEdit:
    """Put back the values edit ``edit_id`` replaced, as a new recorded edit.

    Raises:
        IngredientError: no such edit.
        EditConflictError: a field changed again since; revert the later edits first.
    """
    edit = await session.get(CatalogEdit, edit_id)
    if edit is None:
        raise IngredientError(f"no catalog edit {edit_id}")
    ingredient_fields: dict[str, object] = {}
    minerals: dict[str, float | None] = {}
    for name, value in edit.before.items():
        if name in _MINERAL_COLUMNS:
            minerals[_MINERAL_COLUMNS[name]] = value
        else:
            ingredient_fields[name] = value
    current = await get_ingredient(session, edit.code)
    moved = sorted(n for n, v in edit.after.items() if getattr(current, n) != v)
    if moved:
        raise EditConflictError(
            f"edit {edit_id} cannot be reverted: {', '.join(moved)} changed since; "
            "revert the later edits first"
        )
    _ingredient, _changed, recorded = await update_ingredient(
        session, webhooks, edit.code, fields=ingredient_fields, minerals=minerals,
        expected_version=None, actor=actor, reverts=edit_id,
    )  # fmt: skip
    if recorded is None:  # pragma: no cover - the edit's fields all differ from before
        raise EditConflictError(f"edit {edit_id} changed nothing to revert")
    return recorded
