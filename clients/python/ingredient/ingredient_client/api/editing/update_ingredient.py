from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.ingredient_detail import IngredientDetail
from ...models.ingredient_patch import IngredientPatch
from ...models.problem import Problem
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    code: str,
    *,
    body: IngredientPatch,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["if-match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/ingredients/{code}".format(
            code=quote(str(code), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> IngredientDetail | Problem | ValidationProblem | None:
    if response.status_code == 200:
        response_200 = IngredientDetail.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

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
) -> Response[IngredientDetail | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    code: str,
    *,
    client: AuthenticatedClient,
    body: IngredientPatch,
    if_match: None | str | Unset = UNSET,
) -> Response[IngredientDetail | Problem | ValidationProblem]:
    """Update an ingredient (catalog editors)

     Records the edit (who, when, before, after; an operator can revert it) and
    publishes ``ingredient.updated.v1`` to subscribers when something changed.

    Args:
        code (str):
        if_match (None | str | Unset): the version read
        body (IngredientPatch): Fields to change; omitted fields stay as they are. Amounts per 100
            g.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IngredientDetail | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        code=code,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    code: str,
    *,
    client: AuthenticatedClient,
    body: IngredientPatch,
    if_match: None | str | Unset = UNSET,
) -> IngredientDetail | Problem | ValidationProblem | None:
    """Update an ingredient (catalog editors)

     Records the edit (who, when, before, after; an operator can revert it) and
    publishes ``ingredient.updated.v1`` to subscribers when something changed.

    Args:
        code (str):
        if_match (None | str | Unset): the version read
        body (IngredientPatch): Fields to change; omitted fields stay as they are. Amounts per 100
            g.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IngredientDetail | Problem | ValidationProblem
    """

    return sync_detailed(
        code=code,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    code: str,
    *,
    client: AuthenticatedClient,
    body: IngredientPatch,
    if_match: None | str | Unset = UNSET,
) -> Response[IngredientDetail | Problem | ValidationProblem]:
    """Update an ingredient (catalog editors)

     Records the edit (who, when, before, after; an operator can revert it) and
    publishes ``ingredient.updated.v1`` to subscribers when something changed.

    Args:
        code (str):
        if_match (None | str | Unset): the version read
        body (IngredientPatch): Fields to change; omitted fields stay as they are. Amounts per 100
            g.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IngredientDetail | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        code=code,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    code: str,
    *,
    client: AuthenticatedClient,
    body: IngredientPatch,
    if_match: None | str | Unset = UNSET,
) -> IngredientDetail | Problem | ValidationProblem | None:
    """Update an ingredient (catalog editors)

     Records the edit (who, when, before, after; an operator can revert it) and
    publishes ``ingredient.updated.v1`` to subscribers when something changed.

    Args:
        code (str):
        if_match (None | str | Unset): the version read
        body (IngredientPatch): Fields to change; omitted fields stay as they are. Amounts per 100
            g.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IngredientDetail | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            code=code,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
