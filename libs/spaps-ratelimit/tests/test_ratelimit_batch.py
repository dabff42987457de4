"""Batched script calls on the real Redis: exact per call, and failing per the policy.

Most tests run both ways a batch can travel: straight over the client's connection
pool (the default) and through redis-py's ``Pipeline`` (older redis-py). Faults are
made, then proven, before the policy is checked: a private server is killed (reaped)
or stopped (SIGSTOP, reported stopped by the kernel), and a TCP relay between the
store and Redis holds back replies or cuts a connection at a chosen point of a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from spaps_ratelimit import Limit, RateLimiter, RateLimitStoreUnavailable, RedisStore
from spaps_ratelimit._batch import CommandCache, ScriptBatcher, direct_pool
from spaps_ratelimit._redis import LUA

pytestmark = pytest.mark.redis

BOTH_PATHS = pytest.mark.parametrize("use_pool", [True, False], ids=["pool", "pipeline"])


class RedisRelay:
    """A TCP relay to Redis, in the test's event loop, that can hold back or cut replies.

    ``cut_after(lines)`` relays that many more reply lines (RESP lines end in CRLF),
    then closes the connection; ``drop_replies = True`` relays requests but no replies,
    counting the reply lines it drops in ``dropped_lines``. ``changed`` is set whenever
    a reply chunk passes (or is dropped), for :meth:`wait_until`.
    """

    def __init__(self, upstream_path: str) -> None:
        self._upstream_path = upstream_path
        self._budget: int | None = None
        self.drop_replies = False
        self.dropped_lines = 0
        self.changed = asyncio.Event()
        self.url = ""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def cut_after(self, lines: int) -> None:
        self._budget = lines

    async def wait_until(self, predicate: Callable[[], bool], *, what: str) -> None:
        """Wait for ``predicate()`` to hold; the deadline only fails a hung test."""
        try:
            async with asyncio.timeout(30):
                while not predicate():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            pytest.fail(f"timed out waiting for {what}")

    async def start(self) -> None:
        # Port 0: the kernel picks a free port, read back from the listening socket.
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self._upstream_path)
        for coro in (self._requests(reader, up_writer), self._replies(up_reader, writer)):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _requests(self, reader: asyncio.StreamReader, up: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                up.write(data)
                await up.drain()
        except ConnectionError:
            pass
        finally:
            up.close()

    async def _replies(self, up: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await up.read(65536):
                self.changed.set()
                if self.drop_replies:
                    self.dropped_lines += data.count(b"\r\n")
                    continue
                if self._budget is not None:
                    end = 0
                    while self._budget and (found := data.find(b"\r\n", end)) >= 0:
                        end, self._budget = found + 2, self._budget - 1
                    if self._budget == 0:
                        self._budget = None
                        writer.write(data[:end])
                        await writer.drain()
                        return  # cut: the rest of the batch never arrives
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            # Whatever ended the upstream side (a cut, or Redis closing it) closes the
            # client's side too, as a direct connection would be.
            writer.close()
            self.changed.set()


@pytest.fixture
async def relay(redis_process) -> AsyncIterator[RedisRelay]:
    server = RedisRelay(redis_process.socket_path)
    await server.start()
    try:
        yield server
    finally:
        await server.aclose()


@pytest.fixture
def direct(redis_client: Redis) -> None:
    """Skips a test of the direct path where redis-py cannot take it."""
    if direct_pool(redis_client) is None:
        pytest.skip(
            "not applicable: this redis-py sends batches through Pipeline (the pool needs >= 5.3)"
        )


@pytest.fixture
async def make_batcher(redis_client: Redis) -> Callable[..., ScriptBatcher]:
    def factory(client: Redis | None = None, **kwargs: object) -> ScriptBatcher:
        client = client or redis_client
        return ScriptBatcher(client, client.register_script(LUA), **kwargs)  # type: ignore[arg-type]

    return factory


def args_of(*limits: Limit) -> list[object]:
    """The script's arguments for ``limits`` on the server's clock."""
    return ["", *(x for limit in limits for x in (limit.interval_us, limit.tolerance_us))]


@BOTH_PATHS
async def test_concurrent_calls_in_one_batch_are_each_exact(make_batcher, unique_name, use_pool):
    batcher = make_batcher(use_pool=use_pool, max_batch=512)
    limits = [Limit.per_hour(25, name="h"), Limit.per_day(40, name="d")]
    keys = {f"{unique_name}:{who}": [f"{unique_name}:{who}:h", f"{unique_name}:{who}:d"]
            for who in ("a", "b", "c")}  # fmt: skip
    calls = [batcher(keys[who], args_of(*limits)) for who in keys for _ in range(60)]
    replies = await asyncio.gather(*calls)
    for i in range(len(keys)):
        mine = replies[60 * i : 60 * (i + 1)]
        admitted = [reply for reply in mine if reply[0] == 1]
        assert len(admitted) == 25  # the hourly limit binds; every call decided alone
        assert sorted(reply[2] for reply in admitted) == list(range(25))


@BOTH_PATHS
async def test_calls_made_while_batches_are_in_flight_are_each_exact(
    make_batcher, unique_name, use_pool
):
    batcher = make_batcher(use_pool=use_pool, max_batch=8)
    args = args_of(Limit.per_hour(30))

    async def later(turns: int) -> list[int]:
        for _ in range(turns):  # arrive while earlier batches are in flight
            await asyncio.sleep(0)  # sleep-ok: one loop turn, how calls arrive (under test)
        reply: list[int] = await batcher([f"{unique_name}:k"], args)
        return reply

    replies = await asyncio.wait_for(asyncio.gather(*(later(i % 9) for i in range(100))), 10)
    admitted = [reply for reply in replies if reply[0] == 1]
    assert len(admitted) == 30
    assert sorted(reply[2] for reply in admitted) == list(range(30))


@BOTH_PATHS
async def test_batches_after_a_restart_reload_the_script_and_stay_exact(
    redis_process, make_batcher, use_pool
):
    client = Redis.from_url(redis_process.url, socket_timeout=2, socket_connect_timeout=2)
    batcher = make_batcher(client, use_pool=use_pool)
    args = args_of(Limit.per_hour(20))

    async def admitted(key: str) -> int:
        replies = await asyncio.gather(*(batcher([key], args) for _ in range(50)))
        return sum(reply[0] for reply in replies)

    try:
        assert (await batcher(["warm"], args))[0] == 1
        redis_process.stop()
        # The server is gone (killed and reaped): the batch fails as a whole, whether
        # its pooled connection is found dead at checkout or when written to.
        dead = await asyncio.gather(
            *(batcher(["k"], args) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(reply, RedisConnectionError) for reply in dead), dead
        redis_process.start()  # an empty server: no script, no state
        assert await admitted("k2") == 20  # NOSCRIPT for each call: reloaded, then decided
        await client.script_flush()
        assert await admitted("k3") == 20
    finally:
        await client.aclose()


@pytest.mark.parametrize("fail_open", [True, False])
async def test_connections_killed_by_the_server_mid_batch_fail_per_the_policy_then_recover(
    redis_process, relay, fail_open, direct
):
    client = Redis.from_url(relay.url, socket_timeout=5, socket_connect_timeout=2)
    admin = Redis.from_url(redis_process.url, socket_timeout=2)
    errors: list[Exception] = []
    limiter = RateLimiter(
        RedisStore(client, prefix="t:"),
        fail_open=fail_open,
        on_store_error=lambda exc, _: errors.append(exc),
    )
    limit = [Limit.per_day(1000)]

    async def hit() -> object:
        if fail_open:  # fail-open never raises: any exception fails the test
            return await limiter.hit("k", limit)
        try:
            return await limiter.hit("k", limit)
        except RateLimitStoreUnavailable as exc:  # the declared answer; nothing else
            return exc

    async def hits() -> list[object]:
        return await asyncio.gather(*(hit() for _ in range(20)))

    try:
        assert all(d.allowed for d in await hits())  # type: ignore[attr-defined]
        assert not errors
        relay.drop_replies = True
        in_flight = asyncio.create_task(hits())
        # Redis has answered the whole batch (20 replies of 6 lines), none delivered.
        await relay.wait_until(lambda: relay.dropped_lines >= 120, what="Redis's replies")
        assert not in_flight.done()
        # The fault: Redis itself closes the connections the batch is waiting on.
        assert await admin.client_kill_filter(_type="normal", skipme=True) >= 1
        killed = await asyncio.wait_for(in_flight, 30)
        relay.drop_replies = False
        back = await hits()
    finally:
        await client.aclose()
        await admin.aclose()
    assert len(errors) == 20  # every call of the batch failed ...
    assert all(isinstance(e, RedisConnectionError) for e in errors), errors  # ... this way
    if fail_open:
        assert all(d.allowed and d.degraded for d in killed)  # type: ignore[attr-defined]
    else:
        assert all(isinstance(d, RateLimitStoreUnavailable) for d in killed), killed
    assert all(d.allowed and not d.degraded for d in back)  # type: ignore[attr-defined]
    assert len(errors) == 20  # recovered: no new failure


@pytest.mark.parametrize("fail_open", [True, False])
async def test_a_connection_cut_mid_batch_fails_the_unanswered_calls_then_recovers(
    relay, fail_open, direct
):
    # Redis(...) retries failed commands by default: a batch must not be re-sent.
    client = Redis(host="127.0.0.1", port=relay.port, socket_timeout=2, socket_connect_timeout=2)
    errors: list[Exception] = []
    limiter = RateLimiter(
        RedisStore(client, prefix="t:"),
        fail_open=fail_open,
        on_store_error=lambda exc, _: errors.append(exc),
    )
    limit = [Limit.per_day(1000)]  # nothing is replenished while the test runs

    async def hit() -> object:
        try:
            return await limiter.hit("k", limit)
        except RateLimitStoreUnavailable as exc:
            return exc

    try:
        assert (await limiter.hit("k", limit)).allowed  # loads the script
        relay.cut_after(6)  # one whole reply: "*5" and its five integers
        cut = await asyncio.gather(*(hit() for _ in range(10)))
        after = await asyncio.gather(*(hit() for _ in range(10)))
    finally:
        await client.aclose()
    first, rest = cut[0], cut[1:]
    assert first.allowed  # its reply arrived before the cut
    assert not first.degraded
    if fail_open:
        assert all(d.allowed and d.degraded for d in rest)
    else:
        assert all(isinstance(d, RateLimitStoreUnavailable) for d in rest)
    assert len(errors) == 9
    assert all(isinstance(e, RedisConnectionError) for e in errors)
    assert all(d.allowed and not d.degraded for d in after)  # a fresh connection
    # The cut batch was decided on the server all the same: 1 + 10 counted before.
    assert [d.remaining for d in after] == list(range(988, 978, -1))


async def test_replies_of_a_stopped_server_time_out_once_for_the_whole_batch(redis_process, direct):
    client = Redis.from_url(redis_process.url, socket_timeout=1, socket_connect_timeout=2)
    errors: list[Exception] = []
    limiter = RateLimiter(
        RedisStore(client, prefix="t:"), on_store_error=lambda e, _: errors.append(e)
    )
    limit = [Limit.per_hour(1000)]
    try:
        assert (await limiter.hit("k", limit)).allowed
        redis_process.pause()  # the fault: SIGSTOP, and the kernel reports it stopped
        try:
            down = await asyncio.wait_for(
                asyncio.gather(*(limiter.hit("k", limit) for _ in range(20))), 30
            )
        finally:
            redis_process.resume()
        back = await asyncio.gather(*(limiter.hit("k", limit) for _ in range(5)))
    finally:
        await client.aclose()
    assert len(errors) == 20
    # One deadline for the whole batch (not one socket_timeout per reply): the batch's
    # single timeout error, shared by all its calls.
    assert all(e is errors[0] for e in errors)
    assert isinstance(errors[0], RedisTimeoutError)
    assert str(errors[0]) == "Timeout reading 20 replies from Redis"
    assert all(d.allowed and d.degraded for d in down)  # fail-open, the default
    assert all(d.allowed and not d.degraded for d in back)
    assert len(errors) == 20  # recovered: no new failure


@BOTH_PATHS
async def test_an_unreachable_server_fails_every_call_of_the_batch(
    closed_redis_url, make_batcher, use_pool
):
    client = Redis.from_url(closed_redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
    batcher = make_batcher(client, use_pool=use_pool)
    try:
        replies = await asyncio.gather(
            *(batcher(["k"], args_of(Limit.per_hour(5))) for _ in range(5)),
            return_exceptions=True,
        )
    finally:
        await client.aclose()
    assert all(isinstance(reply, RedisConnectionError) for reply in replies)


async def test_packed_commands_are_what_redis_py_sends_and_are_cached(redis_client):
    pool = redis_client.connection_pool
    sha = redis_client.register_script(LUA).sha
    cache = CommandCache(pool.get_encoder().encode, sha, max_size=8)
    keys, args = ["p:ключ:1/1/1"], args_of(Limit.per_second(3, burst=7))
    conn = pool.make_connection()
    assert cache.get(keys, args) == b"".join(conn.pack_command("EVALSHA", sha, 1, *keys, *args))
    assert cache.get(list(keys), list(args)) is cache.get(keys, args)  # packed once
    assert cache.get(keys, ["12.5", *args[1:]]) != cache.get(keys, args)


async def test_the_packed_command_cache_is_bounded(make_batcher, unique_name, direct):
    batcher = make_batcher(max_cached=16)
    limit = Limit.per_hour(5)
    for batch in range(4):
        keys = [[f"{unique_name}:{batch}:{i}"] for i in range(25)]
        replies = await asyncio.gather(*(batcher(key, args_of(limit)) for key in keys))
        assert all(reply[0] == 1 for reply in replies)
        assert 0 < len(batcher.commands) <= 16


def test_the_pool_is_used_directly_when_redis_py_allows_it(redis_client, direct):
    assert direct_pool(redis_client) is redis_client.connection_pool
    batcher = ScriptBatcher(redis_client, redis_client.register_script(LUA), use_pool=False)
    assert batcher.commands is None
