"""spaps-jobs: Celery jobs that survive crashes, outbox/inbox, HTTP idempotency keys."""

from ._dedupe import (
    AsyncDedupeStore,
    AsyncSqlDedupeStore,
    DedupeRecord,
    DedupeStore,
    SqlDedupeStore,
)
from ._dedupe_redis import AsyncRedisDedupeStore, RedisDedupeStore
from ._dispatch import MESSAGE_ID_HEADER, TOPIC_HEADER, CeleryDispatcher
from ._errors import (
    BrokerUnavailableError,
    DeadLetterNotFoundError,
    IdempotencyError,
    IdempotencyKeyInUseError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMismatchError,
    IdempotencyKeyMissingError,
    MessageInProgressError,
    RelayError,
    ScheduleError,
    SpapsJobsError,
)
from ._inbox import Inbox, message_id_of
from ._outbox import Outbox, OutboxMessage
from ._relay import Dispatch, Relay

__all__ = [
    "AsyncDedupeStore",
    "AsyncRedisDedupeStore",
    "AsyncSqlDedupeStore",
    "BrokerUnavailableError",
    "CeleryDispatcher",
    "DeadLetterNotFoundError",
    "DedupeRecord",
    "DedupeStore",
    "Dispatch",
    "IdempotencyError",
    "IdempotencyKeyInUseError",
    "IdempotencyKeyInvalidError",
    "IdempotencyKeyMismatchError",
    "IdempotencyKeyMissingError",
    "Inbox",
    "MESSAGE_ID_HEADER",
    "MessageInProgressError",
    "Outbox",
    "OutboxMessage",
    "RedisDedupeStore",
    "Relay",
    "RelayError",
    "ScheduleError",
    "SpapsJobsError",
    "SqlDedupeStore",
    "TOPIC_HEADER",
    "message_id_of",
]
