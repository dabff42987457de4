from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.replay_request import ReplayRequest
from ...models.replay_since_response_400 import ReplaySinceResponse400
from ...models.replay_since_response_401 import ReplaySinceResponse401
from ...models.replay_since_response_403 import ReplaySinceResponse403
from ...models.replay_since_response_404 import ReplaySinceResponse404
from ...models.replay_since_response_409 import ReplaySinceResponse409
from ...models.replay_since_response_413 import ReplaySinceResponse413
from ...models.replay_since_response_422 import ReplaySinceResponse422
from ...models.replay_since_response_replay_since import ReplaySinceResponseReplaySince
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ReplayRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/webhooks/replay",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse409
    | ReplaySinceResponse413
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
    | None
):
    if response.status_code == 202:
        response_202 = ReplaySinceResponseReplaySince.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ReplaySinceResponse400.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ReplaySinceResponse401.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ReplaySinceResponse403.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ReplaySinceResponse404.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ReplaySinceResponse409.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ReplaySinceResponse413.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ReplaySinceResponse422.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse409
    | ReplaySinceResponse413
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse409
    | ReplaySinceResponse413
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
]:
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        idempotency_key (str | Unset):
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse409 | ReplaySinceResponse413 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
    idempotency_key: str | Unset = UNSET,
) -> (
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse409
    | ReplaySinceResponse413
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
    | None
):
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        idempotency_key (str | Unset):
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse409 | ReplaySinceResponse413 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse409
    | ReplaySinceResponse413
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
]:
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        idempotency_key (str | Unset):
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse409 | ReplaySinceResponse413 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
    idempotency_key: str | Unset = UNSET,
) -> (
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse409
    | ReplaySinceResponse413
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
    | None
):
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        idempotency_key (str | Unset):
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse409 | ReplaySinceResponse413 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
