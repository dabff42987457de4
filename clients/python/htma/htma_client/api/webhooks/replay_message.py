from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.replay_message_response_replay_message import ReplayMessageResponseReplayMessage
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    message_id: str,
    *,
    endpoint_id: None | str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    params: dict[str, Any] = {}

    json_endpoint_id: None | str | Unset
    if isinstance(endpoint_id, Unset):
        json_endpoint_id = UNSET
    else:
        json_endpoint_id = endpoint_id
    params["endpoint_id"] = json_endpoint_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/webhooks/messages/{message_id}/replay".format(
            message_id=quote(str(message_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ReplayMessageResponseReplayMessage | ValidationProblem | None:
    if response.status_code == 202:
        response_202 = ReplayMessageResponseReplayMessage.from_dict(response.json())

        return response_202

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ValidationProblem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ReplayMessageResponseReplayMessage | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    message_id: str,
    *,
    client: AuthenticatedClient,
    endpoint_id: None | str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ReplayMessageResponseReplayMessage | ValidationProblem]:
    """Replay Message

     Deliver an event message again to its endpoints.

    Args:
        message_id (str):
        endpoint_id (None | str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReplayMessageResponseReplayMessage | ValidationProblem]
    """

    kwargs = _get_kwargs(
        message_id=message_id,
        endpoint_id=endpoint_id,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    message_id: str,
    *,
    client: AuthenticatedClient,
    endpoint_id: None | str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ReplayMessageResponseReplayMessage | ValidationProblem | None:
    """Replay Message

     Deliver an event message again to its endpoints.

    Args:
        message_id (str):
        endpoint_id (None | str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReplayMessageResponseReplayMessage | ValidationProblem
    """

    return sync_detailed(
        message_id=message_id,
        client=client,
        endpoint_id=endpoint_id,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    message_id: str,
    *,
    client: AuthenticatedClient,
    endpoint_id: None | str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ReplayMessageResponseReplayMessage | ValidationProblem]:
    """Replay Message

     Deliver an event message again to its endpoints.

    Args:
        message_id (str):
        endpoint_id (None | str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReplayMessageResponseReplayMessage | ValidationProblem]
    """

    kwargs = _get_kwargs(
        message_id=message_id,
        endpoint_id=endpoint_id,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    message_id: str,
    *,
    client: AuthenticatedClient,
    endpoint_id: None | str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ReplayMessageResponseReplayMessage | ValidationProblem | None:
    """Replay Message

     Deliver an event message again to its endpoints.

    Args:
        message_id (str):
        endpoint_id (None | str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReplayMessageResponseReplayMessage | ValidationProblem
    """

    return (
        await asyncio_detailed(
            message_id=message_id,
            client=client,
            endpoint_id=endpoint_id,
            idempotency_key=idempotency_key,
        )
    ).parsed
