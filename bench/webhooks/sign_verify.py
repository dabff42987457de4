"""Signing and verification per second: spaps-webhooks vs the reference standardwebhooks.

Run: uv run --no-sync python bench/webhooks/sign_verify.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import standardwebhooks
from spaps_webhooks import WebhookSecret, WebhookVerifier, sign, sign_headers

N = 50_000
BODY = b'{"type":"result.ready.v1","timestamp":"2026-01-01T00:00:00+00:00","data":{"result_id":42}}'
KEY = WebhookSecret.generate()
SECRET = str(KEY)


def rate(fn, n: int = N) -> float:  # type: ignore[no-untyped-def]
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        best = max(best, n / (time.perf_counter() - started))
    return best


def main() -> None:
    now = int(time.time())
    reference = standardwebhooks.Webhook(SECRET)
    when = datetime.fromtimestamp(now, tz=UTC)
    body_text = BODY.decode()

    # Both sides hold the decoded key, as a sender does across deliveries.
    ours_sign = rate(lambda: sign(KEY, "msg_1", now, BODY))
    ours_headers = rate(lambda: sign_headers([KEY], "msg_1", BODY, timestamp=now))
    ref_sign = rate(lambda: reference.sign("msg_1", when, body_text))

    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=now)
    verifier = WebhookVerifier(secrets=[SECRET])
    ours_verify = rate(lambda: verifier.verify(headers, BODY))
    ref_verify = rate(lambda: reference.verify(BODY, headers, json_parse=False))

    print(
        f"sign   spaps-webhooks {ours_sign:>10,.0f}/s  standardwebhooks {ref_sign:>10,.0f}/s  "
        f"ratio {ours_sign / ref_sign:.2f}x (target >= 1x)"
    )
    print(
        f"sign_headers (all three headers) {ours_headers:>10,.0f}/s  "
        f"ratio {ours_headers / ref_sign:.2f}x vs reference sign()"
    )
    print(
        f"verify spaps-webhooks {ours_verify:>10,.0f}/s  standardwebhooks {ref_verify:>10,.0f}/s  "
        f"ratio {ours_verify / ref_verify:.2f}x (target >= 1x)"
    )


if __name__ == "__main__":
    main()
