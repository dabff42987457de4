"""The app served by ``loop.py``: a trivial route and a password login route."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel
from spaps_auth import InvalidCredentialsError, PasswordHasher, PasswordLogin
from spaps_auth.fastapi import install_error_handlers


class LoginIn(BaseModel):
    username: str
    password: str


def create_app() -> FastAPI:
    hasher = PasswordHasher()  # OWASP parameters: m=19 MiB, t=2, p=1
    users = {"alice": hasher.hash_sync("correct horse battery staple")}
    login = PasswordLogin(hasher=hasher)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/login")
    async def do_login(body: LoginIn) -> dict[str, bool]:
        try:
            await login.verify(body.username, body.password, users.get(body.username))
        except InvalidCredentialsError:
            return {"ok": False}
        return {"ok": True}

    return app
