"""spaps-webhooks: Standard Webhooks sender and receiver.

Signed deliveries run as spaps-jobs (Celery) tasks with a persisted delivery log,
retries, secret rotation, auto-disable, replay, test-fire and an SSRF guard; receivers
verify signatures, timestamps and replays.
"""

from ._builtin_events import (
    ENDPOINT_DISABLED_EVENT,
    TEST_EVENT,
    EndpointDisabledV1,
    WebhookTestV1,
)
from ._delivery import Deliverer
from ._endpoints import UNSET, EndpointService
from ._errors import (
    EndpointNotFoundError,
    InvalidPayloadError,
    MessageNotFoundError,
    SecretSealingError,
    SpapsWebhooksError,
    UnknownEventTypeError,
    UnsafeURLError,
    WebhookDuplicateError,
    WebhookHeaderError,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerificationError,
)
from ._factory import WebhookSettings, create_webhooks
from ._fan_out import make_body
from ._history import DeliveryHistory, Enqueue
from ._models import (
    Attempt,
    AttemptOutcome,
    Delivery,
    Endpoint,
    EndpointDisabledHook,
    EndpointWithSecret,
    FireResult,
)
from ._receipts import MemoryReceiptLog, Receipt, ReceiptHook, ReceiptOutcome, SqlReceiptLog
from ._receiver import MemoryReplayGuard, ReplayGuard, WebhookReceiver
from ._registry import EventRegistry, EventSchema, parse_event_type
from ._reseal import (
    ResealProgress,
    ResealReport,
    reseal_secrets,
    seal_existing_secrets,
    unseal_secrets,
)
from ._schedule import DEFAULT_DELAYS, RetrySchedule, parse_retry_after
from ._schema_0_3 import BatchOps, MigrationOps, downgrade_from_0_3, upgrade_to_0_3
from ._sealing import SealingKey, SecretSealer
from ._sealing_keys import SealingKeys
from ._secret import WebhookSecret
from ._signing import sign, sign_headers
from ._ssrf import CheckedURL, Resolver, URLGuard, forbidden_reason, system_resolver
from ._tables import WebhookTables
from ._tasks import DELIVER_TASK, SWEEP_TASK, WebhookTasks, register_tasks
from ._transport import GuardedTransport, create_delivery_client
from ._verifier import VerifiedWebhook, WebhookVerifier
from ._webhooks import FAN_OUT_TOPIC, Webhooks

__all__ = [
    "Attempt",
    "AttemptOutcome",
    "BatchOps",
    "CheckedURL",
    "DEFAULT_DELAYS",
    "DELIVER_TASK",
    "Deliverer",
    "Delivery",
    "DeliveryHistory",
    "ENDPOINT_DISABLED_EVENT",
    "Endpoint",
    "EndpointDisabledHook",
    "EndpointDisabledV1",
    "EndpointNotFoundError",
    "EndpointService",
    "EndpointWithSecret",
    "Enqueue",
    "EventRegistry",
    "EventSchema",
    "FAN_OUT_TOPIC",
    "FireResult",
    "GuardedTransport",
    "InvalidPayloadError",
    "MemoryReceiptLog",
    "MemoryReplayGuard",
    "MessageNotFoundError",
    "MigrationOps",
    "Receipt",
    "ReceiptHook",
    "ReceiptOutcome",
    "ReplayGuard",
    "ResealProgress",
    "ResealReport",
    "Resolver",
    "RetrySchedule",
    "SWEEP_TASK",
    "SealingKey",
    "SealingKeys",
    "SecretSealer",
    "SecretSealingError",
    "SpapsWebhooksError",
    "SqlReceiptLog",
    "TEST_EVENT",
    "UNSET",
    "URLGuard",
    "UnknownEventTypeError",
    "UnsafeURLError",
    "VerifiedWebhook",
    "WebhookDuplicateError",
    "WebhookHeaderError",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookSecret",
    "WebhookSettings",
    "WebhookSignatureError",
    "WebhookTables",
    "WebhookTasks",
    "WebhookTestV1",
    "WebhookTimestampError",
    "WebhookTooLargeError",
    "WebhookVerificationError",
    "WebhookVerifier",
    "Webhooks",
    "create_delivery_client",
    "create_webhooks",
    "downgrade_from_0_3",
    "forbidden_reason",
    "make_body",
    "parse_event_type",
    "parse_retry_after",
    "register_tasks",
    "reseal_secrets",
    "seal_existing_secrets",
    "sign",
    "sign_headers",
    "system_resolver",
    "unseal_secrets",
    "upgrade_to_0_3",
]
