from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.erasure_in import ErasureIn
from ...models.erasure_out import ErasureOut
from ...models.problem import Problem
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user_id: str,
    *,
    body: ErasureIn,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/users/{user_id}/erasure".format(
            user_id=quote(str(user_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErasureOut | Problem | ValidationProblem | None:
    if response.status_code == 202:
        response_202 = ErasureOut.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErasureOut | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ErasureIn,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErasureOut | Problem | ValidationProblem]:
    """Erase a user's personal data

     Users erase themselves; lab admins any user of their clinic. Queued: the user's
    sessions, credentials, messages (written or received) and, for a patient, panels and
    results are erased; the account stays as an anonymised tombstone. Asking again while
    it is pending answers the same request.

    Args:
        user_id (str):
        idempotency_key (str | Unset):
        body (ErasureIn): Why the data is erased (kept with the request and in the audit log).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErasureOut | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ErasureIn,
    idempotency_key: str | Unset = UNSET,
) -> ErasureOut | Problem | ValidationProblem | None:
    """Erase a user's personal data

     Users erase themselves; lab admins any user of their clinic. Queued: the user's
    sessions, credentials, messages (written or received) and, for a patient, panels and
    results are erased; the account stays as an anonymised tombstone. Asking again while
    it is pending answers the same request.

    Args:
        user_id (str):
        idempotency_key (str | Unset):
        body (ErasureIn): Why the data is erased (kept with the request and in the audit log).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErasureOut | Problem | ValidationProblem
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ErasureIn,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErasureOut | Problem | ValidationProblem]:
    """Erase a user's personal data

     Users erase themselves; lab admins any user of their clinic. Queued: the user's
    sessions, credentials, messages (written or received) and, for a patient, panels and
    results are erased; the account stays as an anonymised tombstone. Asking again while
    it is pending answers the same request.

    Args:
        user_id (str):
        idempotency_key (str | Unset):
        body (ErasureIn): Why the data is erased (kept with the request and in the audit log).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErasureOut | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ErasureIn,
    idempotency_key: str | Unset = UNSET,
) -> ErasureOut | Problem | ValidationProblem | None:
    """Erase a user's personal data

     Users erase themselves; lab admins any user of their clinic. Queued: the user's
    sessions, credentials, messages (written or received) and, for a patient, panels and
    results are erased; the account stays as an anonymised tombstone. Asking again while
    it is pending answers the same request.

    Args:
        user_id (str):
        idempotency_key (str | Unset):
        body (ErasureIn): Why the data is erased (kept with the request and in the audit log).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErasureOut | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
