"""The public surface is pinned: changing it is a deliberate, reviewed act."""

from __future__ import annotations

import spaps_ratelimit
import spaps_ratelimit.integration
import spaps_ratelimit.testing
import spaps_ratelimit.types


def test_public_api() -> None:
    assert spaps_ratelimit.__all__ == [
        "AttemptFilter",
        "BodySizeLimitMiddleware",
        "Clock",
        "Decision",
        "FailureLimitMiddleware",
        "KeyFunc",
        "Limit",
        "LimitState",
        "LimitsFunc",
        "MemoryStore",
        "OperationCostExceeded",
        "Policy",
        "RateLimitExceeded",
        "RateLimitMiddleware",
        "RateLimitStoreUnavailable",
        "RateLimiter",
        "RedisStore",
        "RequestBodyTooLarge",
        "RouteLimit",
        "SpapsRatelimitError",
        "Store",
        "StoreErrorHook",
        "__version__",
        "api_key",
        "client_ip",
        "first_of",
        "state_key",
        "tenant_key",
        "user_key",
    ]
    assert spaps_ratelimit.__all__ == sorted(spaps_ratelimit.__all__)
    for name in spaps_ratelimit.__all__:
        assert hasattr(spaps_ratelimit, name), name


def test_submodule_surfaces() -> None:
    assert spaps_ratelimit.integration.__all__ == [
        "get_limiter",
        "install_error_handlers",
        "problem_response",
        "setup",
    ]
    assert spaps_ratelimit.testing.__all__ == ["ManualClock"]


def test_strawberry_surface() -> None:
    import spaps_ratelimit.strawberry  # noqa: PLC0415  # the optional extra: imported here only

    assert spaps_ratelimit.strawberry.__all__ == [
        "CostLimit",
        "OperationCost",
        "operation_cost",
    ]


def test_errors_carry_the_problem_protocol() -> None:
    errors = [
        spaps_ratelimit.RateLimitExceeded,
        spaps_ratelimit.RequestBodyTooLarge,
        spaps_ratelimit.RateLimitStoreUnavailable,
        spaps_ratelimit.OperationCostExceeded,
    ]
    codes = {e.code for e in errors}
    assert codes == {
        "ratelimit.rate_limited",
        "ratelimit.body_too_large",
        "ratelimit.store_unavailable",
        "ratelimit.cost_exceeded",
    }
    assert [e.status for e in errors] == [429, 413, 503, 400]
    assert all(issubclass(e, spaps_ratelimit.SpapsRatelimitError) for e in errors)
