"""spaps-ratelimit: exact, fast rate limiting and request-size guards for ASGI apps.

GCRA limits over an in-memory or Redis store, a pure-ASGI middleware with per-route
policies, IETF ``RateLimit`` headers, client keys that resist spoofing, and a body
size limit that also holds for chunked uploads.
"""

from importlib.metadata import version as _version

from ._body_size import BodySizeLimitMiddleware
from ._client_ip import client_ip
from ._decision import Decision, LimitState
from ._errors import (
    OperationCostExceeded,
    RateLimitExceeded,
    RateLimitStoreUnavailable,
    RequestBodyTooLarge,
    SpapsRatelimitError,
)
from ._failures import AttemptFilter, FailureLimitMiddleware
from ._keys import api_key, first_of, state_key, tenant_key, user_key
from ._limit import Limit
from ._limiter import RateLimiter
from ._memory import MemoryStore
from ._middleware import RateLimitMiddleware
from ._policy import Policy
from ._redis import RedisStore
from ._route import RouteLimit
from ._store import Store
from .types import Clock, KeyFunc, LimitsFunc, StoreErrorHook

__version__ = _version("spaps-ratelimit")

__all__ = [
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
