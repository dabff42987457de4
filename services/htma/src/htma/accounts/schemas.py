"""API representations of users and tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from htma.accounts.models import User

#: Every character that is white space to ECMAScript (the OpenAPI pattern's dialect, as
#: clients and fuzzers read it), to Rust's ``regex`` (pydantic's) or to Python's ``re``,
#: spelled out: ``\s`` means a different set to each (U+0085 is white space to Rust and
#: Python only, U+FEFF to ECMAScript only), and the document must refuse what htma does.
_SPACE = (
    r"\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
#: An e-mail address as htma takes it: one ``@``, no white space, something either side.
EMAIL_PATTERN = rf"^[^@{_SPACE}]+@[^@{_SPACE}]+$"

RoleName = Literal["patient", "practitioner", "lab_admin"]


class UserOut(BaseModel):
    """A user of a clinic."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "5f0c3b2e9a7d4e6f8a1b2c3d4e5f6a7b", "clinic_id": "northside",
                 "email": "dr.ada@northside.example", "display_name": "Dr Ada",
                 "role": "practitioner"}
            ]
        }
    )  # fmt: skip

    id: str
    clinic_id: str
    email: str
    display_name: str
    role: RoleName

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls.model_validate(user, from_attributes=True)


class UserIn(BaseModel):
    """A new user of the caller's clinic (lab admins only)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "pat@northside.example", "password": "long enough passphrase",
                 "display_name": "Pat Patient", "role": "patient"}
            ]
        }
    )  # fmt: skip

    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=1, max_length=256)
    display_name: str = Field(min_length=1, max_length=200)
    role: RoleName


class TokenOut(BaseModel):
    """An access token (bearer, short-lived) and its refresh token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Imh0bWEtMjAyNi...",
                 "refresh_token": "rt_Jx7...", "token_type": "Bearer", "expires_in": 900}
            ]
        }
    )  # fmt: skip

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 -- the OAuth token type, not a secret
    expires_in: int
