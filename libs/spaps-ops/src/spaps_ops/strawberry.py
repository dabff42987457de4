"""GraphQL with Strawberry: errors as problem codes, operation limits, a safe router.

Needs the ``strawberry`` extra (``pip install "spaps-ops[strawberry]"``); the package root
never imports this module, so spaps-ops works without Strawberry installed::

    schema = strawberry.Schema(
        query=Query, extensions=secure_extensions(production=settings.is_production)
    )
    app.include_router(
        graphql_router(schema, production=settings.is_production)  # at /graphql
    )

.. versionadded:: 0.7.0
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeAlias

from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from ._strawberry_errors import ProblemErrors
from ._strawberry_router import ContextGetter, graphql_router

__all__ = [
    "ContextGetter",
    "ExtensionFactory",
    "ProblemErrors",
    "graphql_router",
    "secure_extensions",
]

#: What ``strawberry.Schema(extensions=...)`` takes: an extension class, or a callable
#: building a fresh extension for each operation (Strawberry deprecates passing shared
#: instances: they hold the operation's ``execution_context``).
ExtensionFactory: TypeAlias = type[SchemaExtension] | Callable[[], SchemaExtension]


def secure_extensions(
    *,
    production: bool,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    cache_size: int = 256,
) -> list[ExtensionFactory]:
    """The schema extensions every public GraphQL schema needs, for ``Schema(extensions=...)``.

    Each is returned as a class or a factory, so every operation gets fresh instances.
    Combine them with a service's own: ``extensions=[*secure_extensions(...), TenantScope]``.

    :class:`~strawberry.extensions.QueryDepthLimiter`,
    :class:`~strawberry.extensions.MaxAliasesLimiter`,
    :class:`~strawberry.extensions.MaxTokensLimiter`, :class:`ProblemErrors` and, in
    production, :class:`~strawberry.extensions.DisableIntrospection`. The limits are
    checked while parsing and validating, before any resolver runs; a refused operation
    answers HTTP 400 with ``graphql.too_deep``, ``graphql.too_many_aliases``,
    ``graphql.too_many_tokens`` or ``graphql.introspection_disabled``. Fragments count where
    they are spread; a fragment cycle is ``graphql.invalid``.

    Parsing and validating cost more than executing a small operation, and clients send
    the same few documents again and again: :class:`~strawberry.extensions.ParserCache`
    and :class:`~strawberry.extensions.ValidationCache` keep the last ``cache_size``
    documents parsed and their validation verdicts (refusals included), so a repeated
    document is neither parsed nor validated again. The limits' validation rules are
    built once per call, so a verdict is found again across operations.

    Args:
        production: also refuse introspection (decide it as ``settings.is_production``).
        max_depth: deepest field nesting an operation may select.
        max_aliases: most aliased fields a document may hold.
        max_tokens: most tokens a document may hold (keeps parsing cheap).
        cache_size: documents whose parse and validation are remembered (least recently
            used dropped first).

    Raises:
        ValueError: a limit below 1.

    .. versionadded:: 0.7.0
    """
    for name, value in (("max_depth", max_depth), ("max_aliases", max_aliases),
                        ("max_tokens", max_tokens), ("cache_size", cache_size)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    # The limiters make a new rule class per instance; the validation cache keys on the
    # rules, so they are made here once and each operation gets them in a fresh extension.
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    if production:
        rules.extend(DisableIntrospection().validation_rules)
    return [
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        partial(ParserCache, maxsize=cache_size),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=cache_size),
        ProblemErrors,
    ]
