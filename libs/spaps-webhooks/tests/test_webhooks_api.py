"""The public surface and the README example."""

from __future__ import annotations

import os
import re
from pathlib import Path

import spaps_webhooks

README = Path(__file__).parents[1] / "README.md"


def test_public_names_are_pinned() -> None:
    assert spaps_webhooks.__all__ == [
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
    assert spaps_webhooks.__all__ == sorted(spaps_webhooks.__all__)
    for name in spaps_webhooks.__all__:
        assert hasattr(spaps_webhooks, name)


def test_errors_share_one_root_with_unique_codes() -> None:
    errors = [
        getattr(spaps_webhooks, n)
        for n in spaps_webhooks.__all__
        if isinstance(getattr(spaps_webhooks, n), type)
        and issubclass(getattr(spaps_webhooks, n), Exception)
    ]
    assert all(issubclass(e, spaps_webhooks.SpapsWebhooksError) for e in errors)
    codes = [e.code for e in errors]
    assert len(codes) == len(set(codes))
    assert all(code.startswith("webhooks.") for code in codes)


def test_readme_example_runs(tmp_path: Path) -> None:
    text = README.read_text()
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(match.group(1), str(README), "exec"), {"__name__": "readme"})  # noqa: S102 -- running our own README
    finally:
        os.chdir(cwd)
