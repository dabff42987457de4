from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_result_response_401 import GetResultResponse401
from ...models.get_result_response_403 import GetResultResponse403
from ...models.get_result_response_404 import GetResultResponse404
from ...models.get_result_response_409 import GetResultResponse409
from ...models.get_result_response_422 import GetResultResponse422
from ...models.get_result_response_429 import GetResultResponse429
from ...models.result_out import ResultOut
from ...types import Response


def _get_kwargs(
    panel_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/panels/{panel_id}/result".format(
            panel_id=quote(str(panel_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    GetResultResponse401
    | GetResultResponse403
    | GetResultResponse404
    | GetResultResponse409
    | GetResultResponse422
    | GetResultResponse429
    | ResultOut
    | None
):
    if response.status_code == 200:
        response_200 = ResultOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = GetResultResponse401.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = GetResultResponse403.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = GetResultResponse404.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = GetResultResponse409.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = GetResultResponse422.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = GetResultResponse429.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    GetResultResponse401
    | GetResultResponse403
    | GetResultResponse404
    | GetResultResponse409
    | GetResultResponse422
    | GetResultResponse429
    | ResultOut
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    panel_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    GetResultResponse401
    | GetResultResponse403
    | GetResultResponse404
    | GetResultResponse409
    | GetResultResponse422
    | GetResultResponse429
    | ResultOut
]:
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GetResultResponse401 | GetResultResponse403 | GetResultResponse404 | GetResultResponse409 | GetResultResponse422 | GetResultResponse429 | ResultOut]
    """

    kwargs = _get_kwargs(
        panel_id=panel_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    panel_id: str,
    *,
    client: AuthenticatedClient,
) -> (
    GetResultResponse401
    | GetResultResponse403
    | GetResultResponse404
    | GetResultResponse409
    | GetResultResponse422
    | GetResultResponse429
    | ResultOut
    | None
):
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GetResultResponse401 | GetResultResponse403 | GetResultResponse404 | GetResultResponse409 | GetResultResponse422 | GetResultResponse429 | ResultOut
    """

    return sync_detailed(
        panel_id=panel_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    panel_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    GetResultResponse401
    | GetResultResponse403
    | GetResultResponse404
    | GetResultResponse409
    | GetResultResponse422
    | GetResultResponse429
    | ResultOut
]:
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GetResultResponse401 | GetResultResponse403 | GetResultResponse404 | GetResultResponse409 | GetResultResponse422 | GetResultResponse429 | ResultOut]
    """

    kwargs = _get_kwargs(
        panel_id=panel_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    panel_id: str,
    *,
    client: AuthenticatedClient,
) -> (
    GetResultResponse401
    | GetResultResponse403
    | GetResultResponse404
    | GetResultResponse409
    | GetResultResponse422
    | GetResultResponse429
    | ResultOut
    | None
):
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GetResultResponse401 | GetResultResponse403 | GetResultResponse404 | GetResultResponse409 | GetResultResponse422 | GetResultResponse429 | ResultOut
    """

    return (
        await asyncio_detailed(
            panel_id=panel_id,
            client=client,
        )
    ).parsed
