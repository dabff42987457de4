"""Coalesce concurrent script calls into one write and one read (auto-pipelining).

Each decision stays one atomic ``EVALSHA``; what is shared is the network write and
read, the connection checkout and redis-py's per-command overhead. A batch leaves on
the next loop iteration with the calls made until then; calls made while it is in
flight go into the next one, so no call waits for more than one round trip more than
it would alone.

A batch bypasses redis-py's generic ``Pipeline`` (command stack, response callbacks,
retries, metrics): the ``EVALSHA`` commands are packed here -- and cached, as they
repeat (in server-clock mode the arguments are constant per limit) -- written on one
pooled connection with ``send_packed_command``, and each reply is read with
``read_response``. Clients whose pool cannot be used that way (redis-py < 5.3) keep
the ``Pipeline`` path.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.connection import AbstractConnection, ConnectionPool
    from redis.commands.core import AsyncScript

_Call = tuple[list[str], list[Any], "asyncio.Future[Any]"]


class CommandCache:
    """Packed ``EVALSHA`` commands (RESP) by keys and arguments, at most ``max_size``.

    A plain dict emptied when full: bounded, and cheaper per hit than an LRU; a hot
    command is back after one miss.
    """

    def __init__(self, encode: Callable[[Any], bytes], sha: str, *, max_size: int) -> None:
        self._encode = encode
        self._head = (b"EVALSHA", sha.encode())
        self._max_size = max_size
        self._commands: dict[tuple[tuple[str, ...], tuple[Any, ...]], bytes] = {}

    def __len__(self) -> int:
        return len(self._commands)

    def get(self, keys: list[str], args: list[Any]) -> bytes:
        """The packed command running the script for ``keys`` and ``args``."""
        cache_key = (tuple(keys), tuple(args))
        command = self._commands.get(cache_key)
        if command is None:
            # The client's own encoder (floats by repr): the script sees what it would.
            parts = [*self._head, b"%d" % len(keys), *map(self._encode, keys)]
            parts += map(self._encode, args)
            command = b"*%d\r\n" % len(parts) + b"".join(
                [b"$%d\r\n%s\r\n" % (len(part), part) for part in parts]
            )
            if len(self._commands) >= self._max_size:
                self._commands.clear()
            self._commands[cache_key] = command
        return command


def direct_pool(client: Redis) -> ConnectionPool | None:
    """The client's connection pool if batches can use it directly, else ``None``."""
    from redis.asyncio.connection import ConnectionPool  # noqa: PLC0415  # the [redis] extra

    pool = getattr(client, "connection_pool", None)
    if not isinstance(pool, ConnectionPool):
        return None  # e.g. a RedisCluster: one pool per node
    try:
        command_name = inspect.signature(pool.get_connection).parameters.get("command_name")
    except (TypeError, ValueError):  # a pool whose method hides its signature
        return None
    # redis-py < 5.3 requires a command name here; later versions warn when given one.
    if command_name is not None and command_name.default is inspect.Parameter.empty:
        return None
    return pool


class ScriptBatcher:
    """Runs ``script`` for many concurrent callers, ``max_batch`` per round trip.

    Args:
        client: The Redis client.
        script: The registered script; it reloads itself on ``NOSCRIPT``.
        max_batch: Largest number of calls sent in one batch.
        max_cached: Largest number of packed commands kept for reuse.
        use_pool: Send batches over the client's connection pool when it allows it
            (``False``: always through redis-py's ``Pipeline``).
    """

    def __init__(
        self,
        client: Redis,
        script: AsyncScript,
        *,
        max_batch: int = 128,
        max_cached: int = 1024,
        use_pool: bool = True,
    ) -> None:
        from redis.exceptions import (  # noqa: PLC0415  # the [redis] extra
            NoScriptError,
            ResponseError,
        )
        from redis.exceptions import TimeoutError as RedisTimeoutError  # noqa: PLC0415

        self._client = client
        self._script = script
        self._no_script = NoScriptError
        self._response_error = ResponseError
        self._timeout_error = RedisTimeoutError
        self._max_batch = max_batch
        self._pending: list[_Call] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        pool = direct_pool(client) if use_pool else None
        self._pool = pool
        encoder = pool.get_encoder() if pool is not None else None  # type: ignore[no-untyped-call]  # redis-py is untyped here
        #: Packed commands of the direct path; ``None`` on the ``Pipeline`` path.
        self.commands = (
            CommandCache(encoder.encode, script.sha, max_size=max_cached)
            if encoder is not None
            else None
        )

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        """Run the script once for ``keys`` and ``args``; returns its reply."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if not self._scheduled:
            self._scheduled = True
            # Flush on the next loop iteration: calls made until then share the batch.
            self._spawn(loop)
        return await future

    def _spawn(self, loop: asyncio.AbstractEventLoop) -> None:
        task = loop.create_task(self._flush())
        # The loop keeps only weak references to tasks: hold one until it is done.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self) -> None:
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        if self._pending:
            self._spawn(asyncio.get_running_loop())
        else:
            self._scheduled = False
        try:
            if self._pool is not None and self.commands is not None:
                replies = await self._send(self._pool, self.commands, batch)
            else:
                replies = await self._send_pipeline(batch)
        except BaseException:  # cancelled: the callers must not wait forever
            for *_, future in batch:
                future.cancel()
            raise
        for call, reply in zip(batch, replies, strict=True):
            await self._settle(call, reply)

    async def _send(
        self, pool: ConnectionPool, commands: CommandCache, batch: list[_Call]
    ) -> list[Any]:
        """One checkout, one write, one read per call: each call's reply or error.

        When the connection breaks, the calls whose replies were not read fail (the
        limiter's fail policy applies); they are never re-sent, as a second
        ``EVALSHA`` could count a request twice. The connection is closed then, so
        the next batch starts on a fresh one.
        """
        try:
            payload = b"".join([commands.get(keys, args) for keys, args, _ in batch])
            conn: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]  # redis-py is untyped here
        except Exception as exc:  # e.g. the server is unreachable: every call fails
            return [exc] * len(batch)
        replies: list[Any] = []
        try:
            await conn.send_packed_command(payload)
            response_error = self._response_error
            # One deadline for all the batch's replies; each read is told to wait
            # forever, which redis-py >= 8.1 serves without a timer of its own per
            # reply (older versions arm one that never fires: correct, just slower).
            async with asyncio.timeout(conn.socket_timeout):
                for _ in batch:
                    try:
                        replies.append(await conn.read_response(timeout=math.inf))
                    except response_error as exc:  # that call's own error, e.g. NOSCRIPT
                        replies.append(exc)
        except TimeoutError:
            await conn.disconnect()
            error = self._timeout_error(f"Timeout reading {len(batch)} replies from Redis")
            replies += [error] * (len(batch) - len(replies))
        except Exception as exc:  # the connection broke: the unread calls fail
            await conn.disconnect()
            replies += [exc] * (len(batch) - len(replies))
        except BaseException:  # cancelled mid-batch: unread replies would desync it
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)
        return replies

    async def _send_pipeline(self, batch: list[_Call]) -> list[Any]:
        """The same through redis-py's ``Pipeline``, for clients without a usable pool."""
        try:
            pipe = self._client.pipeline(transaction=False)
            sha = self._script.sha
            for keys, args, _ in batch:
                pipe.evalsha(sha, len(keys), *keys, *args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # connection errors fail every call of the batch
            return [exc] * len(batch)
        return replies

    async def _settle(self, call: _Call, reply: Any) -> None:
        keys, args, future = call
        if future.done():
            return  # the caller went away
        if isinstance(reply, self._no_script):
            # SCRIPT FLUSH or a restarted server: the Script object reloads it.
            try:
                reply = await self._script(keys, args)
            except Exception as exc:  # reported to that caller
                reply = exc
        if isinstance(reply, Exception):
            future.set_exception(reply)
        else:
            future.set_result(reply)
