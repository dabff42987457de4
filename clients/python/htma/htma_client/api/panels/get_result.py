from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.result_out import ResultOut
from ...models.validation_problem import ValidationProblem
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
) -> Problem | ResultOut | ValidationProblem | None:
    if response.status_code == 200:
        response_200 = ResultOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = ValidationProblem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ResultOut | ValidationProblem]:
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
) -> Response[Problem | ResultOut | ValidationProblem]:
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ResultOut | ValidationProblem]
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
) -> Problem | ResultOut | ValidationProblem | None:
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ResultOut | ValidationProblem
    """

    return sync_detailed(
        panel_id=panel_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    panel_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Problem | ResultOut | ValidationProblem]:
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ResultOut | ValidationProblem]
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
) -> Problem | ResultOut | ValidationProblem | None:
    """The result of a panel

     Ratios against the reference ranges, deficient minerals, food recommendations.

    Args:
        panel_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ResultOut | ValidationProblem
    """

    return (
        await asyncio_detailed(
            panel_id=panel_id,
            client=client,
        )
    ).parsed
