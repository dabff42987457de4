"""The public surface of spaps-jobs is exactly this list (sorted, pinned)."""

from __future__ import annotations

import spaps_jobs
import spaps_jobs.fastapi
import spaps_jobs.retention
import spaps_jobs.settings
import spaps_jobs.testing

EXPECTED = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert spaps_jobs.__all__ == EXPECTED
    assert sorted(EXPECTED) == EXPECTED


def test_every_exported_name_exists() -> None:
    for name in spaps_jobs.__all__:
        assert getattr(spaps_jobs, name) is not None, name


def test_integration_modules_surface() -> None:
    assert spaps_jobs.fastapi.__all__ == ["install_error_handlers", "require_idempotency_key"]
    assert spaps_jobs.testing.__all__ == ["WorkerProcess", "run_worker", "wait_for"]
    assert spaps_jobs.settings.__all__ == ["RedeliverySettings", "RetentionSettings"]
    assert spaps_jobs.retention.__all__ == [
        "BatchProgress",
        "PurgeReport",
        "Retention",
        "RetentionTarget",
        "RetentionTargetNotFoundError",
        "install_retention",
        "purge_targets",
    ]
    for name in spaps_jobs.retention.__all__:
        assert getattr(spaps_jobs.retention, name) is getattr(spaps_jobs, name), name


def test_errors_form_one_tree_with_http_attributes() -> None:
    errors = [
        getattr(spaps_jobs, name)
        for name in spaps_jobs.__all__
        if name.endswith("Error") and isinstance(getattr(spaps_jobs, name), type)
    ]
    codes = set()
    for error in errors:
        assert issubclass(error, spaps_jobs.SpapsJobsError)
        assert isinstance(error.status, int)
        assert error.code.startswith("jobs.")
        assert error.title
        codes.add(error.code)
    assert len(codes) == len(errors), "error codes must be unique"
