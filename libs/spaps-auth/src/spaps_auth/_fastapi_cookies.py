"""Signed cookies on FastAPI requests and responses (over :class:`CookieSigner`)."""

from __future__ import annotations

from fastapi import Request, Response

from ._cookies import CookieSigner
from ._errors import InvalidSignatureError

__all__ = ["read_signed_cookie", "set_signed_cookie"]


def set_signed_cookie(
    response: Response,
    signer: CookieSigner,
    name: str,
    value: str,
    *,
    secure: bool = True,
    httponly: bool = True,
    samesite: str = "lax",
    path: str = "/",
) -> None:
    """Set cookie ``name`` to ``value`` signed by ``signer`` (``Max-Age`` = its max age).

    Args:
        response: The response to add the ``Set-Cookie`` header to.
        signer: The cookie signer.
        name: Cookie name.
        value: Plain value to sign.
        secure: ``Secure`` attribute (keep on outside local development).
        httponly: ``HttpOnly`` attribute.
        samesite: ``SameSite`` attribute: ``"lax"``, ``"strict"`` or ``"none"``.
        path: ``Path`` attribute.
    """
    if samesite not in ("lax", "strict", "none"):
        raise ValueError("samesite must be 'lax', 'strict' or 'none'")
    response.set_cookie(
        name,
        signer.sign(value),
        max_age=int(signer.max_age),
        secure=secure,
        httponly=httponly,
        samesite=samesite,  # type: ignore[arg-type]  # validated above
        path=path,
    )


def read_signed_cookie(request: Request, signer: CookieSigner, name: str) -> str | None:
    """The verified value of cookie ``name``; ``None`` when absent, tampered or expired
    (a bad cookie is treated like no cookie).
    """
    raw = request.cookies.get(name)
    if raw is None:
        return None
    try:
        return signer.unsign(raw)
    except InvalidSignatureError:
        return None
