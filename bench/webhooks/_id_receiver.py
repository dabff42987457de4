"""ASGI receiver of the fan-out kill benchmark: appends each ``webhook-id`` to a file."""

import os

LOG = os.environ["BENCH_RECEIVED_LOG"]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    ids = [v for k, v in scope["headers"] if k == b"webhook-id"]
    with open(LOG, "ab") as log:  # noqa: ASYNC230 -- a benchmark helper, one short append
        log.write(b"".join(ids) + b"\n")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
