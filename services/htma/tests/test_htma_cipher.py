"""Messages encrypted at rest: AES-GCM, bound to their row, with key rotation."""

from __future__ import annotations

import base64

import pytest
from htma.messaging.cipher import (
    MessageCipher,
    MessageDecryptError,
    MessageKey,
    derive_development_key,
    generate_key,
    message_aad,
    parse_keys,
)
from hypothesis import given
from hypothesis import strategies as st

OLD = MessageKey("k1", b"\x01" * 32)
NEW = MessageKey("k2", b"\x02" * 32)
AAD = message_aad(message_id="m1", clinic="acme", sender_id="u1", recipient_id="u2")


@given(st.text(max_size=2000))
def test_round_trip(text: str) -> None:
    cipher = MessageCipher(keys=[OLD])
    key_id, blob = cipher.encrypt(text, aad=AAD)
    assert key_id == "k1"
    assert cipher.decrypt(key_id, blob, aad=AAD) == text


def test_plaintext_is_not_stored_and_nonces_differ() -> None:
    cipher = MessageCipher(keys=[OLD])
    _, one = cipher.encrypt("magnesium is low", aad=AAD)
    _, two = cipher.encrypt("magnesium is low", aad=AAD)
    assert b"magnesium" not in one
    assert one != two


def test_tampering_and_moving_rows_are_detected() -> None:
    cipher = MessageCipher(keys=[OLD])
    key_id, blob = cipher.encrypt("hello", aad=AAD)
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(MessageDecryptError, match="authentication"):
        cipher.decrypt(key_id, flipped, aad=AAD)
    other_row = message_aad(message_id="m1", clinic="acme", sender_id="u9", recipient_id="u2")
    with pytest.raises(MessageDecryptError, match="authentication"):
        cipher.decrypt(key_id, blob, aad=other_row)
    with pytest.raises(MessageDecryptError, match="format"):
        cipher.decrypt(key_id, b"\x02" + blob[1:], aad=AAD)


def test_rotation_keeps_old_messages_readable_then_reseals_them() -> None:
    key_id, blob = MessageCipher(keys=[OLD]).encrypt("before rotation", aad=AAD)
    rotated = MessageCipher(keys=[NEW, OLD])
    assert rotated.primary_key_id == "k2"
    assert rotated.decrypt(key_id, blob, aad=AAD) == "before rotation"
    assert rotated.needs_rotation(key_id)
    new_id, new_blob = rotated.rotate(key_id, blob, aad=AAD)
    assert new_id == "k2"
    assert not rotated.needs_rotation(new_id)
    # After rotation the old key can be dropped.
    assert MessageCipher(keys=[NEW]).decrypt(new_id, new_blob, aad=AAD) == "before rotation"
    with pytest.raises(MessageDecryptError, match="no key 'k1'"):
        MessageCipher(keys=[NEW]).decrypt(key_id, blob, aad=AAD)


def test_keys_parse_from_settings_text() -> None:
    text = f"{generate_key('k2')}, {generate_key('k1')}"
    keys = parse_keys(text)
    assert [k.key_id for k in keys] == ["k2", "k1"]
    assert all(len(k.key) == 32 for k in keys)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nocolon", "must look like"),
        ("k1:!!!", "32 bytes|base64"),
        ("k1:" + base64.urlsafe_b64encode(b"short").decode(), "must be 32 bytes"),
        ("bad id:" + base64.urlsafe_b64encode(bytes(32)).decode(), "key id"),
        (",".join(["k1:" + base64.urlsafe_b64encode(bytes(32)).decode()] * 2), "unique"),
    ],
)
def test_malformed_keys_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_keys(text)


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        MessageCipher(keys=[])
    with pytest.raises(TypeError, match="MessageKey"):
        MessageCipher(keys=["k1"])  # type: ignore[list-item] # the error under test
    with pytest.raises(ValueError, match="unique"):
        MessageCipher(keys=[OLD, MessageKey("k1", b"\x03" * 32)])


def test_development_key_is_derived_deterministically() -> None:
    assert derive_development_key("s3cret") == derive_development_key("s3cret")
    assert derive_development_key("s3cret").key != derive_development_key("other").key
