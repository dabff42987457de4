from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.richest_list import RichestList
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    mineral: str,
    *,
    limit: int | Unset = 10,
    food_group: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_food_group: None | str | Unset
    if isinstance(food_group, Unset):
        json_food_group = UNSET
    else:
        json_food_group = food_group
    params["food_group"] = json_food_group

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/minerals/{mineral}/richest".format(
            mineral=quote(str(mineral), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RichestList | ValidationProblem | None:
    if response.status_code == 200:
        response_200 = RichestList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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
) -> Response[Problem | RichestList | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    mineral: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    food_group: None | str | Unset = UNSET,
) -> Response[Problem | RichestList | ValidationProblem]:
    """Foods richest in a mineral

     Ingredients with the highest content per 100 g, richest first.

    Args:
        mineral (str): symbol or English name
        limit (int | Unset):  Default: 10.
        food_group (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RichestList | ValidationProblem]
    """

    kwargs = _get_kwargs(
        mineral=mineral,
        limit=limit,
        food_group=food_group,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    mineral: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    food_group: None | str | Unset = UNSET,
) -> Problem | RichestList | ValidationProblem | None:
    """Foods richest in a mineral

     Ingredients with the highest content per 100 g, richest first.

    Args:
        mineral (str): symbol or English name
        limit (int | Unset):  Default: 10.
        food_group (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RichestList | ValidationProblem
    """

    return sync_detailed(
        mineral=mineral,
        client=client,
        limit=limit,
        food_group=food_group,
    ).parsed


async def asyncio_detailed(
    mineral: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    food_group: None | str | Unset = UNSET,
) -> Response[Problem | RichestList | ValidationProblem]:
    """Foods richest in a mineral

     Ingredients with the highest content per 100 g, richest first.

    Args:
        mineral (str): symbol or English name
        limit (int | Unset):  Default: 10.
        food_group (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RichestList | ValidationProblem]
    """

    kwargs = _get_kwargs(
        mineral=mineral,
        limit=limit,
        food_group=food_group,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    mineral: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    food_group: None | str | Unset = UNSET,
) -> Problem | RichestList | ValidationProblem | None:
    """Foods richest in a mineral

     Ingredients with the highest content per 100 g, richest first.

    Args:
        mineral (str): symbol or English name
        limit (int | Unset):  Default: 10.
        food_group (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RichestList | ValidationProblem
    """

    return (
        await asyncio_detailed(
            mineral=mineral,
            client=client,
            limit=limit,
            food_group=food_group,
        )
    ).parsed
