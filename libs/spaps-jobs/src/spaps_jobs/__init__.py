"""spaps-jobs: Celery jobs that survive crashes, outbox/inbox, HTTP idempotency keys."""

from ._app import JobsCelery, create_celery_app
from ._check import ConfigFinding, check_configuration
from ._dead_letters import DeadLetter, DeadLetterStore
from ._dedupe import AsyncDedupeStore, DedupeRecord, DedupeStore
from ._dedupe_redis import AsyncRedisDedupeStore, RedisDedupeStore
from ._dedupe_sql import AsyncSqlDedupeStore, SqlDedupeStore
from ._dispatch import MESSAGE_ID_HEADER, TOPIC_HEADER, CeleryDispatcher
from ._errors import (
    BrokerUnavailableError,
    DeadLetterNotFoundError,
    IdempotencyBodyTooLargeError,
    IdempotencyError,
    IdempotencyKeyInUseError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMismatchError,
    IdempotencyKeyMissingError,
    MessageInProgressError,
    RelayError,
    RetentionTargetNotFoundError,
    ScheduleError,
    ScheduleNotFoundError,
    SpapsJobsError,
)
from ._idempotency import CallerFunc, IdempotencyMiddleware, authorization_caller
from ._inbox import Inbox, message_id_of
from ._inbox_sql import SqlInbox
from ._metrics import InboxMetrics, RelayMetrics, TaskMetrics
from ._outbox import Confirm, Outbox, OutboxMessage
from ._redelivery import Redelivery
from ._relay import Dispatch, Relay
from ._retention import PurgeReport, Retention, RetentionTarget
from ._retention_task import BatchProgress, install_retention, purge_targets
from ._schedules import Schedule, parse_schedules, run_scheduled
from ._schema_0_3 import BatchOps, MigrationOps, downgrade_from_0_3, upgrade_to_0_3
from ._settings import JobsSettings
from ._signals import REQUEST_ID_HEADER, current_request_id
from ._tasks import JobTask, backoff_delay

__all__ = [
    "AsyncDedupeStore",
    "AsyncRedisDedupeStore",
    "AsyncSqlDedupeStore",
    "BatchOps",
    "BatchProgress",
    "BrokerUnavailableError",
    "CallerFunc",
    "CeleryDispatcher",
    "ConfigFinding",
    "Confirm",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "DeadLetterStore",
    "DedupeRecord",
    "DedupeStore",
    "Dispatch",
    "IdempotencyBodyTooLargeError",
    "IdempotencyError",
    "IdempotencyKeyInUseError",
    "IdempotencyKeyInvalidError",
    "IdempotencyKeyMismatchError",
    "IdempotencyKeyMissingError",
    "IdempotencyMiddleware",
    "Inbox",
    "InboxMetrics",
    "JobTask",
    "JobsCelery",
    "JobsSettings",
    "MESSAGE_ID_HEADER",
    "MessageInProgressError",
    "MigrationOps",
    "Outbox",
    "OutboxMessage",
    "PurgeReport",
    "REQUEST_ID_HEADER",
    "Redelivery",
    "RedisDedupeStore",
    "Relay",
    "RelayError",
    "RelayMetrics",
    "Retention",
    "RetentionTarget",
    "RetentionTargetNotFoundError",
    "Schedule",
    "ScheduleError",
    "ScheduleNotFoundError",
    "SpapsJobsError",
    "SqlDedupeStore",
    "SqlInbox",
    "TOPIC_HEADER",
    "TaskMetrics",
    "authorization_caller",
    "backoff_delay",
    "check_configuration",
    "create_celery_app",
    "current_request_id",
    "downgrade_from_0_3",
    "install_retention",
    "message_id_of",
    "parse_schedules",
    "purge_targets",
    "run_scheduled",
    "upgrade_to_0_3",
]
