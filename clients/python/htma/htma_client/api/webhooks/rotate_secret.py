from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.endpoint_with_secret import EndpointWithSecret
from ...models.rotate_request import RotateRequest
from ...models.rotate_secret_response_400 import RotateSecretResponse400
from ...models.rotate_secret_response_401 import RotateSecretResponse401
from ...models.rotate_secret_response_403 import RotateSecretResponse403
from ...models.rotate_secret_response_404 import RotateSecretResponse404
from ...models.rotate_secret_response_409 import RotateSecretResponse409
from ...models.rotate_secret_response_413 import RotateSecretResponse413
from ...models.rotate_secret_response_422 import RotateSecretResponse422
from ...types import UNSET, Response, Unset


def _get_kwargs(
    endpoint_id: str,
    *,
    body: None | RotateRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret".format(
            endpoint_id=quote(str(endpoint_id), safe=""),
        ),
    }

    if isinstance(body, RotateRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    EndpointWithSecret
    | RotateSecretResponse400
    | RotateSecretResponse401
    | RotateSecretResponse403
    | RotateSecretResponse404
    | RotateSecretResponse409
    | RotateSecretResponse413
    | RotateSecretResponse422
    | None
):
    if response.status_code == 200:
        response_200 = EndpointWithSecret.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = RotateSecretResponse400.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = RotateSecretResponse401.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = RotateSecretResponse403.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = RotateSecretResponse404.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = RotateSecretResponse409.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = RotateSecretResponse413.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = RotateSecretResponse422.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    EndpointWithSecret
    | RotateSecretResponse400
    | RotateSecretResponse401
    | RotateSecretResponse403
    | RotateSecretResponse404
    | RotateSecretResponse409
    | RotateSecretResponse413
    | RotateSecretResponse422
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    body: None | RotateRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    EndpointWithSecret
    | RotateSecretResponse400
    | RotateSecretResponse401
    | RotateSecretResponse403
    | RotateSecretResponse404
    | RotateSecretResponse409
    | RotateSecretResponse413
    | RotateSecretResponse422
]:
    """Rotate Secret

     A new signing key; the old one stays valid.

    Args:
        endpoint_id (str):
        idempotency_key (str | Unset):
        body (None | RotateRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EndpointWithSecret | RotateSecretResponse400 | RotateSecretResponse401 | RotateSecretResponse403 | RotateSecretResponse404 | RotateSecretResponse409 | RotateSecretResponse413 | RotateSecretResponse422]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    body: None | RotateRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> (
    EndpointWithSecret
    | RotateSecretResponse400
    | RotateSecretResponse401
    | RotateSecretResponse403
    | RotateSecretResponse404
    | RotateSecretResponse409
    | RotateSecretResponse413
    | RotateSecretResponse422
    | None
):
    """Rotate Secret

     A new signing key; the old one stays valid.

    Args:
        endpoint_id (str):
        idempotency_key (str | Unset):
        body (None | RotateRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EndpointWithSecret | RotateSecretResponse400 | RotateSecretResponse401 | RotateSecretResponse403 | RotateSecretResponse404 | RotateSecretResponse409 | RotateSecretResponse413 | RotateSecretResponse422
    """

    return sync_detailed(
        endpoint_id=endpoint_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    body: None | RotateRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    EndpointWithSecret
    | RotateSecretResponse400
    | RotateSecretResponse401
    | RotateSecretResponse403
    | RotateSecretResponse404
    | RotateSecretResponse409
    | RotateSecretResponse413
    | RotateSecretResponse422
]:
    """Rotate Secret

     A new signing key; the old one stays valid.

    Args:
        endpoint_id (str):
        idempotency_key (str | Unset):
        body (None | RotateRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EndpointWithSecret | RotateSecretResponse400 | RotateSecretResponse401 | RotateSecretResponse403 | RotateSecretResponse404 | RotateSecretResponse409 | RotateSecretResponse413 | RotateSecretResponse422]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    body: None | RotateRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> (
    EndpointWithSecret
    | RotateSecretResponse400
    | RotateSecretResponse401
    | RotateSecretResponse403
    | RotateSecretResponse404
    | RotateSecretResponse409
    | RotateSecretResponse413
    | RotateSecretResponse422
    | None
):
    """Rotate Secret

     A new signing key; the old one stays valid.

    Args:
        endpoint_id (str):
        idempotency_key (str | Unset):
        body (None | RotateRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EndpointWithSecret | RotateSecretResponse400 | RotateSecretResponse401 | RotateSecretResponse403 | RotateSecretResponse404 | RotateSecretResponse409 | RotateSecretResponse413 | RotateSecretResponse422
    """

    return (
        await asyncio_detailed(
            endpoint_id=endpoint_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
