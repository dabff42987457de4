"""``CostLimit``: price a GraphQL operation after validation, charge it before execution."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, build_schema
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ._decision import Decision
from ._errors import (
    OperationCostExceeded,
    RateLimitExceeded,
    RateLimitStoreUnavailable,
    SpapsRatelimitError,
)
from ._headers import decision_headers
from ._limit import Limit, as_limits
from ._limiter import RateLimiter
from ._strawberry_cost import DEFAULT_LIST_SIZE, OperationCost, operation_cost
from .types import KeyFunc, LimitsFunc


def _context_part(context: object, name: str) -> Any:
    """``context[name]`` of Strawberry's FastAPI dict context, else ``context.<name>``."""
    if isinstance(context, Mapping):
        return context.get(name)
    return getattr(context, name, None)


@dataclass(slots=True)
class _Outcome:
    """What the check found for one operation."""

    cost: OperationCost
    decision: Decision | None = None
    error: SpapsRatelimitError | None = None


class CostLimit:
    """Prices every GraphQL operation and charges it against the caller's budget.

    Pass it to ``strawberry.Schema(extensions=[CostLimit(...)])``. It is a factory
    (Strawberry calls it once per operation, and builds a fresh
    :class:`~strawberry.extensions.SchemaExtension` each time), so concurrent
    operations never share state; Strawberry deprecates sharing one extension
    instance between requests.

    Once the document has been parsed and validated, and before any resolver runs
    (Strawberry's ``on_execute`` hook), the operation's static cost is computed with
    :func:`operation_cost`. An operation costing more than ``max_cost``, or more than
    the burst of the caller's limits (it could never be admitted), fails with
    :class:`~spaps_ratelimit.OperationCostExceeded` (``ratelimit.cost_exceeded``,
    400) without touching the store. Otherwise ``cost`` units are charged in one
    decision (:meth:`RateLimiter.hit`) under ``key(scope)``; a refused charge fails
    with :class:`~spaps_ratelimit.RateLimitExceeded` (``ratelimit.rate_limited``)
    and the HTTP answer is 429 with ``Retry-After``, ``RateLimit`` and
    ``RateLimit-Policy`` -- the headers :class:`RateLimitMiddleware` sends. An
    admitted operation's response carries ``RateLimit``/``RateLimit-Policy`` too.
    A store failure follows the limiter's fail policy (503 when it fails closed).

    Refusals are GraphQL errors with ``extensions.code`` and ``extensions.status``
    (and the error's other members, e.g. ``retry_after``); their ``original_error``
    is the library's exception, so spaps-ops renders it with its own code. The HTTP
    status and headers are set on the context's ``response`` (Strawberry's FastAPI
    context is a dict with ``"request"`` and ``"response"``; an object context with
    ``.request``/``.response`` works alike). The result's ``extensions.cost`` holds
    ``total`` and, once charged, ``remaining``: the units the budget has left.

    The budget is not charged when the context has no request, when ``key`` returns
    ``None``, when a ``limits`` function returns ``None``, or when the cost is 0;
    ``max_cost`` still applies. Execution must be async (``Schema.execute``, as the
    HTTP integrations use), since the limiter is.

    Args:
        limiter: The limiter (its store decides where budgets live).
        key: Who pays, from the request's ASGI scope (e.g. ``first_of(user_key(),
            client_ip())``); may be async.
        limits: The budget's limits, or a function of the key returning them (e.g.
            by plan); a cost unit is one request of these limits.
        max_cost: The most one operation may cost.
        field_costs: Prices by ``"Type.field"`` (see :func:`operation_cost`).
        default_field_cost: The price of any other field.
        namespace: Separates this budget from the HTTP policies of the same key.
        list_size_arguments: Arguments whose value multiplies a field's selections.
        default_list_size: The size of a list whose size argument has no value.

    .. versionadded:: 0.5.0
    """

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        key: KeyFunc,
        limits: Sequence[Limit] | LimitsFunc,
        max_cost: int,
        field_costs: Mapping[str, int] | None = None,
        default_field_cost: int = 1,
        namespace: str = "graphql",
        list_size_arguments: Collection[str] = ("first", "last", "limit"),
        default_list_size: int = DEFAULT_LIST_SIZE,
    ) -> None:
        if not isinstance(limiter, RateLimiter):
            raise TypeError(f"limiter must be a RateLimiter, got {limiter!r}")
        if not callable(key):
            raise TypeError(f"key must be a key function, got {key!r}")
        if not isinstance(max_cost, int) or isinstance(max_cost, bool) or max_cost < 1:
            raise ValueError(f"max_cost must be an int >= 1, got {max_cost!r}")
        if not isinstance(default_field_cost, int) or default_field_cost < 0:
            raise ValueError(f"default_field_cost must be an int >= 0, got {default_field_cost!r}")
        if not isinstance(default_list_size, int) or default_list_size < 0:
            raise ValueError(f"default_list_size must be an int >= 0, got {default_list_size!r}")
        costs = dict(field_costs or {})
        for name, value in costs.items():
            if name.count(".") != 1 or not isinstance(value, int) or value < 0:
                raise ValueError(f"field_costs maps 'Type.field' to an int >= 0, got {name!r}")
        if isinstance(list_size_arguments, str):
            raise TypeError("list_size_arguments must be a collection of names, not one string")
        self._limits_func: LimitsFunc | None = None
        self._limits: tuple[Limit, ...] = ()
        if callable(limits):
            self._limits_func = limits
        else:
            self._limits = as_limits(list(limits))
        self.limiter = limiter
        self.key = key
        self.max_cost = max_cost
        self.namespace = namespace
        self._pricing: dict[str, Any] = {
            "field_costs": costs,
            "default_field_cost": default_field_cost,
            "list_size_arguments": tuple(list_size_arguments),
            "default_list_size": default_list_size,
        }
        # The graphql-core schema of each Strawberry schema, rebuilt from its printed
        # SDL (Strawberry's public surface) once; weak, so a dropped schema is freed.
        self._schemas: WeakKeyDictionary[Schema, GraphQLSchema | None] = WeakKeyDictionary()

    def __call__(self) -> SchemaExtension:
        """A fresh extension for one operation (Strawberry calls this)."""
        return _CostLimitExtension(self)

    def _graphql_schema(self, schema: Schema) -> GraphQLSchema | None:
        if schema not in self._schemas:
            try:
                self._schemas[schema] = build_schema(schema.as_str())
            # An SDL graphql-core cannot rebuild (whatever it raises): price without types.
            except Exception:
                self._schemas[schema] = None
        return self._schemas[schema]

    async def _limits_for(self, key: str) -> tuple[Limit, ...] | None:
        if self._limits_func is None:
            return self._limits
        found = self._limits_func(key)
        if inspect.isawaitable(found):
            found = await found
        return None if found is None else as_limits(list(found))

    async def check(self, context: ExecutionContext) -> _Outcome:
        """Price the operation of ``context`` and charge it (see the class docstring)."""
        document = context.graphql_document
        if document is None:  # on_execute runs after parsing; never without a document
            raise RuntimeError("CostLimit ran before the document was parsed")
        cost = operation_cost(
            document,
            operation_name=context.operation_name,
            variables=context.variables,
            schema=self._graphql_schema(context.schema),
            **self._pricing,
        )
        if cost.total > self.max_cost:
            return _Outcome(cost, error=OperationCostExceeded(cost.total, self.max_cost))
        return await self._charge(cost, context)

    async def _charge(self, cost: OperationCost, context: ExecutionContext) -> _Outcome:
        request = _context_part(context.context, "request")
        scope = getattr(request, "scope", None)
        if cost.total == 0 or not isinstance(scope, dict):
            return _Outcome(cost)
        key = self.key(scope)
        if inspect.isawaitable(key):
            key = await key
        limits = None if key is None else await self._limits_for(key)
        if key is None or limits is None:
            return _Outcome(cost)
        burst = min(limit.burst for limit in limits)
        if cost.total > burst:  # could never pass: refuse before the store, as a 400
            return _Outcome(cost, error=OperationCostExceeded(cost.total, burst))
        try:
            decision = await self.limiter.hit(
                key, limits, namespace=self.namespace, cost=cost.total
            )
        except RateLimitStoreUnavailable as exc:
            return _Outcome(cost, error=exc)
        if not decision.allowed:
            error = RateLimitExceeded(decision, headers=decision_headers(decision))
            return _Outcome(cost, decision, error)
        return _Outcome(cost, decision)


class _CostLimitExtension(SchemaExtension):
    """The per-operation extension :class:`CostLimit` builds."""

    def __init__(self, config: CostLimit) -> None:
        super().__init__()
        self._config = config
        self._outcome: _Outcome | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        outcome = self._outcome = await self._config.check(context)
        error = outcome.error
        headers: Mapping[str, str] = {}
        if error is not None:
            headers = error.headers or {}
            # A result set before execution is what Strawberry returns instead of
            # executing: no resolver runs.
            context.result = ExecutionResult(data=None, errors=[_graphql_error(error)])
        elif outcome.decision is not None:
            headers = decision_headers(outcome.decision)
        response = _context_part(context.context, "response")
        if response is not None:
            if error is not None:
                response.status_code = error.status
            for name, value in headers.items():
                response.headers[name] = value
        yield

    def get_results(self) -> dict[str, Any]:
        outcome = self._outcome
        if outcome is None:
            return {}
        report: dict[str, int] = {"total": outcome.cost.total}
        if outcome.decision is not None and outcome.decision.states:
            report["remaining"] = outcome.decision.remaining
        return {"cost": report}


def _graphql_error(error: SpapsRatelimitError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": error.code, "status": error.status}
    for name, value in (error.extensions or {}).items():
        extensions.setdefault(name, value)
    return GraphQLError(str(error), original_error=error, extensions=extensions)
