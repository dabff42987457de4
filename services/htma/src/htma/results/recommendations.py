"""Foods rich in the deficient minerals, fetched from the ingredient service.

Over HTTP with a short-lived service token signed by htma (ingredient verifies it
through htma's JWKS), behind a circuit breaker: when ingredient is down or slow the
result is still produced, with ``{"status": "unavailable"}`` recommendations, and the
breaker stops further calls from waiting on a dead service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
from spaps_ops import CircuitBreaker, CircuitOpenError

#: Mints a bearer token for the call (a service token from htma's issuer).
TokenFactory = Callable[[], str]


class IngredientUnavailableError(Exception):
    """ingredient answered 5xx or could not be reached (counted by the breaker)."""


class RecommendationClient:
    """Ask ingredient for the foods richest in each mineral.

    Args:
        base_url: ingredient's base URL, e.g. ``http://127.0.0.1:8001``.
        token: returns a bearer token for each call.
        breaker: the circuit breaker guarding ingredient.
        per_mineral: foods per mineral.
        timeout: seconds per HTTP call.
        transport: an httpx transport (tests pass a fake; default: the network).
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: TokenFactory,
        breaker: CircuitBreaker,
        per_mineral: int = 5,
        timeout: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be http(s), got {base_url!r}")
        if not 1 <= per_mineral <= 50:
            raise ValueError("per_mineral must be within 1..50")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self.breaker = breaker
        self._per_mineral = per_mineral
        self._timeout = timeout
        self._transport = transport

    async def for_minerals(
        self, symbols: Sequence[str], *, request_id: str | None = None
    ) -> dict[str, Any]:
        """``{"status": "ok", "minerals": {symbol: [food, ...]}}``, or ``{"status":
        "unavailable", "reason": ...}`` when ingredient cannot answer. Never raises for
        ingredient's failures.

        Args:
            symbols: mineral symbols (``"Mg"``...).
            request_id: sent as ``X-Request-ID`` so both services log the same id.
        """
        if not symbols:
            return {"status": "ok", "minerals": {}}
        headers = {"Authorization": f"Bearer {self._token()}"}
        if request_id:
            headers["X-Request-ID"] = request_id
        try:
            async with httpx.AsyncClient(
                base_url=self._base_url,
                timeout=self._timeout,
                transport=self._transport,
                headers=headers,
            ) as client:
                minerals = {}
                for symbol in symbols:
                    minerals[symbol] = await self.breaker.call(self._richest, client, symbol)
        except CircuitOpenError:
            return {"status": "unavailable", "reason": "circuit open: ingredient is failing"}
        except IngredientUnavailableError as exc:
            return {"status": "unavailable", "reason": str(exc)}
        return {"status": "ok", "minerals": minerals}

    async def _richest(self, client: httpx.AsyncClient, symbol: str) -> list[dict[str, Any]]:
        try:
            response = await client.get(
                f"/v1/minerals/{symbol}/richest", params={"limit": self._per_mineral}
            )
        except httpx.HTTPError as exc:
            raise IngredientUnavailableError(
                f"ingredient unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code >= 500:
            raise IngredientUnavailableError(f"ingredient answered {response.status_code}")
        if response.status_code != 200:
            # 4xx is our mistake (or an unknown mineral), not an outage: not counted.
            return []
        return [
            {"code": item["code"], "name": item["name"], "amount": item["amount"],
             "unit": item["unit"], "per": item["per"]}
            for item in response.json()["items"]
        ]  # fmt: skip
