"""``Policy``: which limits apply to a request, keyed how, with per-key overrides."""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence

from starlette.types import Scope

from ._client_ip import client_ip
from ._decision import Decision
from ._limit import Limit, as_limits
from ._limiter import RateLimiter
from .types import KeyFunc, LimitsFunc

_NAME = re.compile(r"^[A-Za-z0-9_.:/{}-]{1,128}$")


class Policy:
    """Limits, a key function and optional per-key overrides, under one name.

    Args:
        limits: One :class:`Limit`, a text limit (``"10/second"``) or several; a
            request is admitted only when all admit it.
        key: Who is limited; defaults to :func:`client_ip` without trusted proxies.
            A key of ``None`` exempts the request from this policy.
        overrides: Limits for a given key (e.g. the key's plan), or ``None`` for the
            defaults; how tenancy or auth plug plans in without imports.
        name: Namespace of this policy's counters; two policies with the same name
            and key share state.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("key", "limits", "name", "overrides")

    def __init__(
        self,
        limits: Limit | str | Sequence[Limit | str],
        *,
        key: KeyFunc | None = None,
        overrides: LimitsFunc | None = None,
        name: str = "global",
    ) -> None:
        if key is not None and not callable(key):
            raise TypeError(f"key must be a key function, got {key!r}")
        if overrides is not None and not callable(overrides):
            raise TypeError(f"overrides must be callable, got {overrides!r}")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"name must match {_NAME.pattern}, got {name!r}")
        self.limits: tuple[Limit, ...] = as_limits(limits)
        self.key: KeyFunc = key if key is not None else client_ip()
        self.overrides = overrides
        self.name = name

    def renamed(self, name: str) -> Policy:
        """A copy of this policy under another counter namespace."""
        return Policy(self.limits, key=self.key, overrides=self.overrides, name=name)

    async def limits_for(self, key: str) -> tuple[Limit, ...]:
        """The limits that apply to ``key``: its override, else the defaults."""
        if self.overrides is None:
            return self.limits
        found = self.overrides(key)
        if inspect.isawaitable(found):
            found = await found
        return self.limits if found is None else as_limits(list(found))

    async def check(self, limiter: RateLimiter, scope: Scope) -> Decision | None:
        """Decide the request in ``scope``; ``None`` when the policy does not apply.

        Raises:
            RateLimitStoreUnavailable: The store failed and the limiter fails closed.
        """
        key = self.key(scope)
        if key.__class__ is not str:  # skip the costlier checks for the common case
            if key is None:
                return None
            if inspect.isawaitable(key):
                key = await key
                if key is None:
                    return None
        limits = self.limits if self.overrides is None else await self.limits_for(key)
        return await limiter.hit(key, limits, namespace=self.name)
