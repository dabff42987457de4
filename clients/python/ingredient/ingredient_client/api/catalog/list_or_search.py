from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.ingredient_page import IngredientPage
from ...models.problem import Problem
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: None | str | Unset = UNSET,
    food_group: None | str | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_q: None | str | Unset
    if isinstance(q, Unset):
        json_q = UNSET
    else:
        json_q = q
    params["q"] = json_q

    json_food_group: None | str | Unset
    if isinstance(food_group, Unset):
        json_food_group = UNSET
    else:
        json_food_group = food_group
    params["food_group"] = json_food_group

    params["limit"] = limit

    params["offset"] = offset

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/ingredients",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> IngredientPage | Problem | ValidationProblem | None:
    if response.status_code == 200:
        response_200 = IngredientPage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

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
) -> Response[IngredientPage | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    food_group: None | str | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> Response[IngredientPage | Problem | ValidationProblem]:
    """List or search ingredients

     Search by relevance when ``q`` is given, otherwise list alphabetically.

    Args:
        q (None | str | Unset): full-text query; every word matches as a prefix
        food_group (None | str | Unset):
        limit (int | Unset): page size Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IngredientPage | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        q=q,
        food_group=food_group,
        limit=limit,
        offset=offset,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    food_group: None | str | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> IngredientPage | Problem | ValidationProblem | None:
    """List or search ingredients

     Search by relevance when ``q`` is given, otherwise list alphabetically.

    Args:
        q (None | str | Unset): full-text query; every word matches as a prefix
        food_group (None | str | Unset):
        limit (int | Unset): page size Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IngredientPage | Problem | ValidationProblem
    """

    return sync_detailed(
        client=client,
        q=q,
        food_group=food_group,
        limit=limit,
        offset=offset,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    food_group: None | str | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> Response[IngredientPage | Problem | ValidationProblem]:
    """List or search ingredients

     Search by relevance when ``q`` is given, otherwise list alphabetically.

    Args:
        q (None | str | Unset): full-text query; every word matches as a prefix
        food_group (None | str | Unset):
        limit (int | Unset): page size Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IngredientPage | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        q=q,
        food_group=food_group,
        limit=limit,
        offset=offset,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    food_group: None | str | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> IngredientPage | Problem | ValidationProblem | None:
    """List or search ingredients

     Search by relevance when ``q`` is given, otherwise list alphabetically.

    Args:
        q (None | str | Unset): full-text query; every word matches as a prefix
        food_group (None | str | Unset):
        limit (int | Unset): page size Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IngredientPage | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            food_group=food_group,
            limit=limit,
            offset=offset,
        )
    ).parsed
