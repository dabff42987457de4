"""Over HTTP: tenant A's token cannot read, list, update or delete tenant B's resources.

A small FastAPI app: a stand-in authentication step (a pure-ASGI middleware mapping
bearer tokens to verified claims in ``request.state.claims``), ``TenantMiddleware`` with
the JWT-claim resolver, and CRUD handlers that never mention the tenant. Another
tenant's resource answers 404 exactly like a missing one, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from spaps_tenancy import TenantMiddleware, claim_resolver, current_tenant
from spaps_tenancy.integration import install_error_handlers
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.types import ASGIApp, Receive, Scope, Send

TOKENS = {
    "token-a": {"sub": "u1", "tenant_id": "clinic-a"},
    "token-b": {"sub": "u2", "tenant_id": "clinic-b"},
}


class FakeAuth:
    """Stands in for the auth library: verified claims go to ``scope["state"]["claims"]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
            if token in TOKENS:
                scope.setdefault("state", {})["claims"] = TOKENS[token]
        await self.app(scope, receive, send)


class NoteIn(BaseModel):
    body: str


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def build_app(factory: sessionmaker[Session], patient_model: Any, note_model: Any) -> FastAPI:
    app = FastAPI()
    app.state.session_factory = factory

    def load(session: Session, note_id: int) -> Any:
        note = session.get(note_model, note_id)
        if note is None:
            raise HTTPException(404, "note not found")
        return note

    @app.get("/notes")
    def list_notes(session: SessionDep) -> list[dict[str, Any]]:
        notes = session.scalars(select(note_model).order_by(note_model.id))
        return [{"id": n.id, "body": n.body} for n in notes]

    @app.post("/notes", status_code=201)
    def create_note(session: SessionDep, data: NoteIn) -> dict[str, Any]:
        patient = patient_model(name="p")
        note = note_model(body=data.body, patient=patient)
        session.add(note)
        session.commit()
        return {"id": note.id, "tenant": current_tenant()}

    @app.get("/notes/{note_id}")
    def read_note(session: SessionDep, note_id: int) -> dict[str, Any]:
        note = load(session, note_id)
        return {"id": note.id, "body": note.body}

    @app.put("/notes/{note_id}")
    def update_note(session: SessionDep, note_id: int, data: NoteIn) -> dict[str, Any]:
        note = load(session, note_id)
        note.body = data.body
        session.commit()
        return {"id": note.id, "body": note.body}

    @app.delete("/notes/{note_id}", status_code=204)
    def delete_note(session: SessionDep, note_id: int) -> None:
        session.delete(load(session, note_id))
        session.commit()

    install_error_handlers(app)
    app.add_middleware(TenantMiddleware, resolver=claim_resolver())
    app.add_middleware(FakeAuth)
    return app


@pytest.fixture
async def client(orm: Any) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    orm.Base.metadata.create_all(engine)
    factory = sessionmaker(engine, class_=orm.Session, expire_on_commit=False)
    app = build_app(factory, orm.Patient, orm.Note)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        yield http
    engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_tenant_a_cannot_touch_tenant_b_by_id(client: httpx.AsyncClient) -> None:
    created = await client.post("/notes", json={"body": "b secret"}, headers=auth("token-b"))
    assert created.status_code == 201
    assert created.json()["tenant"] == "clinic-b"
    b_id = created.json()["id"]
    mine = await client.post("/notes", json={"body": "a note"}, headers=auth("token-a"))
    a_id = mine.json()["id"]

    missing_id = b_id + a_id + 100
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("GET", {}),
        ("PUT", {"json": {"body": "pwned"}}),
        ("DELETE", {}),
    ]
    for method, kwargs in attempts:
        foreign = await client.request(method, f"/notes/{b_id}", headers=auth("token-a"), **kwargs)
        absent = await client.request(
            method, f"/notes/{missing_id}", headers=auth("token-a"), **kwargs
        )
        # Same status and same body as a resource that does not exist: no existence oracle.
        assert foreign.status_code == absent.status_code == 404
        assert foreign.json() == absent.json()

    listed = await client.get("/notes", headers=auth("token-a"))
    assert listed.json() == [{"id": a_id, "body": "a note"}]
    # B's note is intact and still B's.
    still = await client.get(f"/notes/{b_id}", headers=auth("token-b"))
    assert still.json() == {"id": b_id, "body": "b secret"}
    assert (await client.get("/notes", headers=auth("token-b"))).json() == [
        {"id": b_id, "body": "b secret"}
    ]


async def test_owner_can_update_and_delete(client: httpx.AsyncClient) -> None:
    note_id = (await client.post("/notes", json={"body": "x"}, headers=auth("token-a"))).json()[
        "id"
    ]
    updated = await client.put(f"/notes/{note_id}", json={"body": "y"}, headers=auth("token-a"))
    assert updated.json() == {"id": note_id, "body": "y"}
    assert (await client.delete(f"/notes/{note_id}", headers=auth("token-a"))).status_code == 204
    assert (await client.get(f"/notes/{note_id}", headers=auth("token-a"))).status_code == 404


async def test_no_token_means_no_tenant_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/notes")
    assert response.status_code == 400
    assert response.json()["code"] == "tenancy.tenant_missing"
    assert (await client.get("/notes", headers=auth("forged"))).status_code == 400


async def test_handler_errors_render_as_problem_json(orm: Any) -> None:
    app = FastAPI()

    @app.get("/tenant")
    def tenant() -> str:
        return current_tenant()  # no middleware: TenantContextError

    install_error_handlers(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.get("/tenant")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "tenancy.no_tenant"
    with pytest.raises(TypeError, match="Starlette"):
        install_error_handlers(object())  # type: ignore[arg-type]  # on purpose
