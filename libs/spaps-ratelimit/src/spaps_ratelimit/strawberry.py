"""GraphQL (Strawberry): price operations statically and charge them to a rate budget.

Needs the ``strawberry`` extra (``pip install "spaps-ratelimit[strawberry]"``); the rest
of the library imports without it. Usage::

    from spaps_ratelimit import Limit, RateLimiter, client_ip
    from spaps_ratelimit.strawberry import CostLimit

    cost_limit = CostLimit(
        limiter=limiter,
        key=client_ip(),
        limits=[Limit.per_minute(1000)],
        max_cost=500,
        field_costs={"Query.search": 10},
    )
    schema = strawberry.Schema(query=Query, extensions=[cost_limit])

.. versionadded:: 0.5.0
"""

from __future__ import annotations

from ._strawberry_cost import OperationCost, operation_cost
from ._strawberry_limit import CostLimit

__all__ = ["CostLimit", "OperationCost", "operation_cost"]
