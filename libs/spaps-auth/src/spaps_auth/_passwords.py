"""Password hashing with argon2id, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["PasswordHasher"]

T = TypeVar("T")

# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


def _lower_priority(niceness: int, idle_class: bool) -> None:
    # Linux scheduling priority is per thread: raising this worker's nice value lets the
    # event-loop thread preempt it, so a burst of logins cannot starve other requests.
    if niceness and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            tid = threading.get_native_id()
            current = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
    # SCHED_IDLE weighs even less than nice 19 and, above all, a waking normal thread (the
    # event loop) preempts it at once: measured here, it halves the tail latency that other
    # routes see during a login burst. Hashing still progresses; it is not starved outright.
    if idle_class and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))


class PasswordHasher:
    """argon2id hashing whose CPU work runs in a bounded pool of low-priority threads.

    Hashing at the OWASP parameters takes tens of milliseconds of CPU; doing it on the
    event loop would stall every other request, so each call goes to a worker thread
    (argon2-cffi releases the GIL while hashing). The pool is bounded (memory: one
    ``memory_cost`` per concurrent hash) and, where the OS allows, its threads run at a
    lower priority than the event loop so latency of other routes holds under a login
    burst.

    Args:
        time_cost: Iterations (``t``). Default 2 (OWASP).
        memory_cost: Memory in KiB (``m``). Default 19456 (19 MiB, OWASP).
        parallelism: Lanes (``p``). Default 1 (OWASP).
        hash_len: Length of the derived hash in bytes.
        salt_len: Length of the random salt in bytes.
        max_threads: Concurrent hashes (default: the CPU count).
        thread_niceness: Nice increment of the worker threads (0 disables; Linux). The
            default, 19, makes hashing yield to everything else: under saturation logins
            slow down before other routes do.
        idle_scheduling: Also put the worker threads in Linux's ``SCHED_IDLE`` class, so
            the event loop preempts them as soon as it wakes (no effect elsewhere).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_KIB,
        parallelism: int = OWASP_PARALLELISM,
        hash_len: int = 32,
        salt_len: int = 16,
        max_threads: int | None = None,
        thread_niceness: int = 19,
        idle_scheduling: bool = True,
    ) -> None:
        for name, value, minimum in (
            ("time_cost", time_cost, 1),
            ("memory_cost", memory_cost, 8 * parallelism),
            ("parallelism", parallelism, 1),
            ("hash_len", hash_len, 16),
            ("salt_len", salt_len, 16),
        ):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {value}")
        if max_threads is not None and max_threads < 1:
            raise ValueError("max_threads must be >= 1")
        if not 0 <= thread_niceness <= 19:
            raise ValueError("thread_niceness must be within 0..19")
        self._max_threads = max_threads or os.cpu_count() or 1
        self._niceness = thread_niceness
        self._idle_scheduling = idle_scheduling
        self._executor: ThreadPoolExecutor | None = None
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )
        # A real hash with the current parameters: verifying against it when the account
        # does not exist costs the same as a real verification (no user enumeration by timing).
        self._dummy_hash = self._hasher.hash("spaps-auth dummy password")

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        if self._executor is None:  # created on first use: no threads at import time
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_threads,
                thread_name_prefix="spaps-auth-argon2",
                initializer=_lower_priority,
                initargs=(self._niceness, self._idle_scheduling),
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        """Stop the worker threads (a later call starts new ones)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @property
    def dummy_hash(self) -> str:
        """A hash with the current parameters that no real password matches."""
        return self._dummy_hash

    async def hash(self, password: str) -> str:
        """Hash ``password`` with a fresh salt (in a worker thread).

        Args:
            password: The plaintext password.
        """
        return await self._run(self._hasher.hash, password)

    def hash_sync(self, password: str) -> str:
        """Blocking variant of :meth:`hash` for scripts and CLIs."""
        return self._hasher.hash(password)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check ``password`` against ``stored_hash`` (in a worker thread).

        When ``stored_hash`` is ``None`` (unknown account) a dummy hash is verified so the
        call takes as long as a real one, and ``False`` is returned.

        Args:
            stored_hash: The PHC-format hash from storage, or ``None``.
            password: The plaintext candidate.
        """
        if stored_hash is None:
            await self._run(self._verify, self._dummy_hash, password)
            return False
        return await self._run(self._verify, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True

    async def verify_and_update(
        self, stored_hash: str | None, password: str
    ) -> tuple[bool, str | None]:
        """Verify, and when the parameters changed return a new hash to store.

        Args:
            stored_hash: The stored hash, or ``None`` for an unknown account.
            password: The plaintext candidate.

        Returns:
            ``(ok, new_hash)`` where ``new_hash`` is set only when ``ok`` and a rehash is due.
        """
        ok = await self.verify(stored_hash, password)
        if ok and stored_hash is not None and self.needs_rehash(stored_hash):
            return True, await self.hash(password)
        return ok, None
