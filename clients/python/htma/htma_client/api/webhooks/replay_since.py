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
from ...models.replay_since_response_422 import ReplaySinceResponse422
from ...models.replay_since_response_replay_since import ReplaySinceResponseReplaySince
from ...types import Response


def _get_kwargs(
    *,
    body: ReplayRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

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
) -> Response[
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
]:
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
) -> (
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
    | None
):
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
) -> Response[
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
]:
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ReplayRequest,
) -> (
    ReplaySinceResponse400
    | ReplaySinceResponse401
    | ReplaySinceResponse403
    | ReplaySinceResponse404
    | ReplaySinceResponse422
    | ReplaySinceResponseReplaySince
    | None
):
    """Replay Since

     Deliver again every message since a time (optionally failed ones only).

    Args:
        body (ReplayRequest): Body of ``POST /replay``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ReplaySinceResponse400 | ReplaySinceResponse401 | ReplaySinceResponse403 | ReplaySinceResponse404 | ReplaySinceResponse422 | ReplaySinceResponseReplaySince
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
