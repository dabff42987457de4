"""The public surface is exactly what ``__all__`` lists, sorted; errors follow the protocol."""

from __future__ import annotations

import inspect

import spaps_auth
import spaps_auth.fastapi
import spaps_auth.strawberry


def test_all_is_sorted_and_complete() -> None:
    assert spaps_auth.__all__ == sorted(spaps_auth.__all__)
    for name in spaps_auth.__all__:
        assert hasattr(spaps_auth, name), name
    public = {n for n in dir(spaps_auth) if not n.startswith("_")} - {"fastapi", "testing"}
    public = {n for n in public if not inspect.ismodule(getattr(spaps_auth, n))}
    assert public <= set(spaps_auth.__all__) | {"__version__"}


def test_fastapi_all_is_sorted() -> None:
    assert spaps_auth.fastapi.__all__ == sorted(spaps_auth.fastapi.__all__)
    for name in spaps_auth.fastapi.__all__:
        assert hasattr(spaps_auth.fastapi, name), name


def test_fastapi_exports_are_pinned() -> None:
    assert spaps_auth.fastapi.__all__ == [
        "AuthComponents",
        "AuthenticationMiddleware",
        "CurrentPrincipal",
        "OptionalPrincipal",
        "auth_router",
        "get_auth",
        "get_optional_principal",
        "get_principal",
        "install_error_handlers",
        "jwks_router",
        "problem_response",
        "read_signed_cookie",
        "require_access",
        "require_permissions",
        "require_roles",
        "set_signed_cookie",
        "setup_auth",
    ]


def test_strawberry_exports_are_pinned() -> None:
    assert spaps_auth.strawberry.__all__ == [
        "Allows",
        "HasPermissions",
        "HasRoles",
        "HasScopes",
        "IsAuthenticated",
        "authorize_resource",
        "get_principal",
        "require_principal",
    ]
    for name in spaps_auth.strawberry.__all__:
        assert getattr(spaps_auth.strawberry, name).__doc__, name
        assert ".. versionadded:: 0.6.0" in getattr(spaps_auth.strawberry, name).__doc__, name


def test_errors_carry_problem_attributes_with_unique_codes() -> None:
    errors = [
        getattr(spaps_auth, n)
        for n in spaps_auth.__all__
        if inspect.isclass(getattr(spaps_auth, n))
        and issubclass(getattr(spaps_auth, n), spaps_auth.SpapsAuthError)
    ]
    codes = [e.code for e in errors]
    assert len(codes) == len(set(codes))
    for error in errors:
        assert error.code.startswith("auth.")
        assert isinstance(error.status, int)
        assert error.title
