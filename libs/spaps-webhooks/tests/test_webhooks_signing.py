"""Standard Webhooks 1.0 signatures, interoperable with the reference package."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
from hypothesis import given, settings
from hypothesis import strategies as st
from spaps_webhooks import (
    WebhookSecret,
    WebhookSignatureError,
    WebhookVerifier,
    sign,
    sign_headers,
)

# The published test vector of the specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_spec_vector_signs_to_published_signature() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.encode()) == SPEC_SIGNATURE


def test_spec_vector_verifies() -> None:
    verifier = WebhookVerifier(secrets=[SPEC_SECRET], clock=lambda: SPEC_TIMESTAMP + 10)
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    webhook = verifier.verify(headers, SPEC_BODY)
    assert webhook.id == SPEC_ID
    assert webhook.timestamp == SPEC_TIMESTAMP
    assert webhook.json() == {"test": 2432232314}


def test_reference_signature_of_spec_vector_matches() -> None:
    reference = standardwebhooks.Webhook(SPEC_SECRET)
    when = datetime.fromtimestamp(SPEC_TIMESTAMP, tz=UTC)
    assert reference.sign(SPEC_ID, when, SPEC_BODY) == SPEC_SIGNATURE


@settings(max_examples=40, deadline=None)
@given(
    key=st.binary(min_size=24, max_size=64),
    msg_id=st.from_regex(r"\Amsg_[A-Za-z0-9]{1,40}\Z"),
    body=st.text(max_size=300),
)
def test_signed_here_verifies_in_reference(key: bytes, msg_id: str, body: str) -> None:
    secret = WebhookSecret(key)
    headers = sign_headers([secret], msg_id, body)
    assert standardwebhooks.Webhook(str(secret)).verify(body, headers, json_parse=False) is None


@settings(max_examples=40, deadline=None)
@given(
    key=st.binary(min_size=24, max_size=64),
    msg_id=st.from_regex(r"\Amsg_[A-Za-z0-9]{1,40}\Z"),
    body=st.text(max_size=300),
)
def test_signed_by_reference_verifies_here(key: bytes, msg_id: str, body: str) -> None:
    secret = str(WebhookSecret(key))
    now = int(time.time())
    signature = standardwebhooks.Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(now, tz=UTC), body
    )
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": signature}
    assert WebhookVerifier(secrets=[secret]).verify(headers, body).body == body.encode()


def test_two_secrets_give_two_signatures_each_verifying_in_reference() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    headers = sign_headers([new, old], "msg_1", b'{"a":1}')
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        standardwebhooks.Webhook(str(secret)).verify(b'{"a":1}', headers, json_parse=False)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(str(WebhookSecret.generate())).verify(b'{"a":1}', headers)


def test_tampered_body_fails_in_both_directions() -> None:
    secret = WebhookSecret.generate()
    headers = sign_headers([secret], "msg_1", b'{"amount":1}')
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(secrets=[secret]).verify(headers, b'{"amount":100}')
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(str(secret)).verify(b'{"amount":100}', headers)


def test_generated_secrets_are_random_and_round_trip() -> None:
    first, second = WebhookSecret.generate(), WebhookSecret.generate()
    assert first != second
    assert str(first).startswith("whsec_")
    assert len(first.key) == 32
    assert WebhookSecret.parse(str(first)) == first
    assert "whsec_" not in repr(first)
    assert len(WebhookSecret.generate(64).key) == 64


def test_secret_without_prefix_or_padding_parses() -> None:
    key = bytes(range(25))
    encoded = base64.b64encode(key).decode().rstrip("=")
    assert WebhookSecret.parse(encoded).key == key


@pytest.mark.parametrize(
    "value",
    [
        "whsec_" + base64.b64encode(b"x" * 23).decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
        "whsec_not base64!",
        "",
    ],
)
def test_invalid_secrets_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        WebhookSecret.parse(value)


def test_generate_refuses_out_of_range_sizes() -> None:
    with pytest.raises(ValueError, match="nbytes"):
        WebhookSecret.generate(16)


def test_sign_headers_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        sign_headers([], "msg_1", b"{}")


def test_sign_headers_uses_given_timestamp() -> None:
    headers = sign_headers([SPEC_SECRET], SPEC_ID, SPEC_BODY, timestamp=SPEC_TIMESTAMP)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
