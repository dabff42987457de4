"""Errors of the ingredient service.

Every error carries ``status``, ``code``, ``title`` (and optionally ``detail``), the
protocol the problem+json renderer uses::

    IngredientError
    ├── NotFoundError          404 ingredient.not_found
    ├── UnknownMineralError    404 ingredient.unknown_mineral
    ├── InvalidQueryError      400 ingredient.invalid_query
    ├── VersionMismatchError   412 ingredient.version_mismatch
    ├── EditConflictError      409 ingredient.edit_conflict
    └── CatalogImportError     (CLI only) a seed file cannot be read or stored
"""

from __future__ import annotations


class IngredientError(Exception):
    """Root of the ingredient service's errors."""

    status: int = 500
    code: str = "ingredient.error"
    title: str = "Ingredient service error"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail


class NotFoundError(IngredientError):
    """The requested ingredient does not exist."""

    status = 404
    code = "ingredient.not_found"
    title = "Ingredient not found"


class UnknownMineralError(IngredientError):
    """The mineral symbol is not one the catalog records."""

    status = 404
    code = "ingredient.unknown_mineral"
    title = "Unknown mineral"


class InvalidQueryError(IngredientError):
    """The search query has no searchable word."""

    status = 400
    code = "ingredient.invalid_query"
    title = "Invalid search query"


class VersionMismatchError(IngredientError):
    """The ingredient changed since the editor read it (``If-Match``)."""

    status = 412
    code = "ingredient.version_mismatch"
    title = "Version mismatch"


class EditConflictError(IngredientError):
    """A recorded edit cannot be reverted: its fields changed again since."""

    status = 409
    code = "ingredient.edit_conflict"
    title = "Edit cannot be reverted"


class CatalogImportError(IngredientError):
    """A seed catalog file cannot be read, parsed or stored."""

    code = "ingredient.catalog_import"
    title = "Catalog import failed"


#: The problem codes the API answers with (registered with spaps-ops).
ERROR_CODES: tuple[type[IngredientError], ...] = (
    NotFoundError,
    UnknownMineralError,
    InvalidQueryError,
    VersionMismatchError,
    EditConflictError,
)
