"""RFC 9457 problem+json for the service's errors and request validation.

Interim renderer until the service runs on spaps-ops, which renders any exception
carrying ``status``/``code``/``title`` the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from ingredient.errors import IngredientError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str | None, **extra: Any) -> JSONResponse:
    """A problem+json response with the shared body shape."""
    body: dict[str, Any] = {
        "type": f"urn:spaps:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IngredientError)
    return problem(exc.status, exc.code, exc.title, exc.detail)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem(
        422, "ingredient.validation", "Invalid request", "the request is invalid", errors=errors
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = (
        "ingredient.not_found" if exc.status_code == 404 else f"ingredient.http_{exc.status_code}"
    )
    response = problem(exc.status_code, code, str(exc.detail), None)
    response.headers.update(exc.headers or {})
    return response


def install_problem_handlers(app: FastAPI) -> None:
    """Render service errors, validation errors and HTTP errors as problem+json."""
    app.add_exception_handler(IngredientError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
