"""The generated clients against the running services (uvicorn x2, embedded defaults).

* The TypeScript SDKs (``clients/typescript``): compiled by ``tsc`` (a path or field the API
  no longer has fails the build), then their Node tests sign in and call the main routes,
  including a problem answer; each packs with ``npm pack``.
* The Postman collections (``clients/postman``): the generated requests for sign-in and the
  main routes, run by ``newman`` with the committed environment file, every status checked.
"""

from __future__ import annotations

import copy
import json
import secrets
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from npm_clients import CLIENTS, SDK_BUILD, items, load, npm, npm_ready

pytestmark = pytest.mark.slow
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def stack(make_stack: Any) -> Any:
    npm_ready()
    running = make_stack()
    running.start(("ingredient", "htma"))
    return running


def _token(stack: Any) -> str:
    clinic = f"sdk-{secrets.token_hex(4)}"
    signup = httpx.post(f"{stack.htma_url}/v1/auth/signup", json={
        "clinic_id": clinic, "clinic_name": "SDK Clinic", "email": f"admin@{clinic}.example",
        "password": PASSWORD, "display_name": "Ada Admin"}, timeout=30)  # fmt: skip
    assert signup.status_code == 201, signup.text
    return str(signup.json()["tokens"]["access_token"])


def test_typescript_sdks_call_the_running_services(stack: Any) -> None:
    env = {
        "HTMA_URL": stack.htma_url,
        "INGREDIENT_URL": stack.ingredient_url,
        "INGREDIENT_TOKEN": _token(stack),
    }
    with SDK_BUILD:
        built = npm("run", "build", "--workspaces")
        assert built.returncode == 0, built.stdout + built.stderr
        for package in ("htma", "ingredient"):
            ran = npm("exec", "--workspace", f"typescript/{package}", "--", "node", "--test",
                      "dist/test/", env=env)  # fmt: skip
            output = ran.stdout + ran.stderr
            assert ran.returncode == 0, output
            assert "# pass 1" in output, output  # the test ran (it skips without a URL)
            assert "# skipped 0" in output, output


CONSUMER = """
import { create%(Cap)sClient, isProblem } from "@spaps/%(service)s-client";
const client = create%(Cap)sClient({ baseUrl: "http://127.0.0.1:8000", token: "t" });
export async function call(): Promise<unknown> {
  const answer = await client.GET("%(route)s");
  return isProblem(answer.error) ? answer.error.code : answer.data?.%(field)s;
}
"""


def test_typescript_sdks_pack_and_compile_in_a_consumer(tmp_path: Path) -> None:
    """``npm pack`` gives packages whose types a consumer compiles against (``tsc``)."""
    npm_ready()
    with SDK_BUILD:  # packing builds the SDKs (prepack)
        packed = npm("pack", "--workspaces", "--pack-destination", str(tmp_path), "--json")
    assert packed.returncode == 0, packed.stdout + packed.stderr
    modules = tmp_path / "consumer" / "node_modules"
    (modules / "@spaps").mkdir(parents=True)
    (modules / "openapi-fetch").symlink_to(CLIENTS / "node_modules" / "openapi-fetch")
    for service, route, field in (
        ("htma", "/v1/me", "email"),
        ("ingredient", "/v1/minerals", "length"),
    ):
        [tarball] = tmp_path.glob(f"spaps-{service}-client-*.tgz")
        with tarfile.open(tarball) as archive:
            names = set(archive.getnames())
            archive.extractall(tmp_path / service, filter="data")
        assert {"package/dist/src/index.d.ts", "package/dist/src/schema.d.ts"} <= names
        assert not any("/test/" in name for name in names)
        (tmp_path / service / "package").rename(modules / "@spaps" / f"{service}-client")
        source = tmp_path / "consumer" / f"{service}.ts"
        values = {"Cap": service.capitalize(), "service": service, "route": route, "field": field}
        source.write_text(CONSUMER % values)
    tsc = CLIENTS / "node_modules" / ".bin" / "tsc"
    compiled = subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution",
         "nodenext", "--target", "es2022", "--types", "node", "--typeRoots",
         str(CLIENTS / "node_modules" / "@types"), "htma.ts", "ingredient.ts"],
        cwd=tmp_path / "consumer", capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    # The types are real: a field the API does not answer with fails to compile.
    (tmp_path / "consumer" / "htma.ts").write_text(
        CONSUMER % {"Cap": "Htma", "service": "htma", "route": "/v1/me", "field": "no_such_field"}
    )
    refused = subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution",
         "nodenext", "--target", "es2022", "--types", "node", "--typeRoots",
         str(CLIENTS / "node_modules" / "@types"), "htma.ts"],
        cwd=tmp_path / "consumer", capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "Property 'no_such_field' does not exist" in refused.stdout


def _step(
    requests: dict[tuple[str, str], dict[str, Any]],
    route: tuple[str, str],
    status: int,
    *,
    body: dict[str, Any] | None = None,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    script: list[str] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """The generated request for ``route``, filled in, with a test of its status."""
    item = copy.deepcopy(requests[route])
    url = item["request"]["url"]
    for variable in url.get("variable", []):
        if path and variable["key"] in path:
            variable["value"] = path[variable["key"]]
    url["query"] = [{"key": k, "value": v} for k, v in (query or {}).items()]
    if body is not None:
        raw = {"language": "json"}
        item["request"]["body"] = {"mode": "raw", "raw": json.dumps(body), "options": {"raw": raw}}
    item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": [
        f"pm.test('{route[0]} {route[1]} answers {status}', function () {{",
        f"  pm.response.to.have.status({status});",
        "});",
        *script,
    ]}}]  # fmt: skip
    return item


def _newman(tmp_path: Path, service: str, steps: list[dict[str, Any]], env: dict[str, str]) -> None:
    collection = load(service)
    collection["item"] = steps
    run = tmp_path / f"{service}.json"
    run.write_text(json.dumps(collection))
    report = tmp_path / f"{service}-report.json"
    args = ["exec", "--", "newman", "run", str(run), "--environment",
            str(CLIENTS / "postman" / f"{service}.postman_environment.json"),
            "--reporters", "cli,json", "--reporter-json-export", str(report)]  # fmt: skip
    for key, value in env.items():
        args += ["--env-var", f"{key}={value}"]
    ran = npm(*args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    stats = json.loads(report.read_text())["run"]["stats"]
    assert stats["requests"]["total"] == len(steps)
    assert stats["assertions"] == {"total": len(steps), "pending": 0, "failed": 0}


def test_postman_collections_run_against_the_services(stack: Any, tmp_path: Path) -> None:
    clinic = f"pm-{secrets.token_hex(4)}"
    htma = items(load("htma"))
    keep_token = ["pm.environment.set('bearerToken', pm.response.json().tokens.access_token);"]
    keep_user = ["pm.environment.set('userId', pm.response.json().id);"]
    _newman(tmp_path, "htma", [
        _step(htma, ("POST", "/v1/auth/signup"), 201, script=keep_token, body={
            "clinic_id": clinic, "clinic_name": "Postman Clinic",
            "email": f"admin@{clinic}.example", "password": PASSWORD, "display_name": "Ada Admin"}),
        _step(htma, ("GET", "/v1/me"), 200),
        _step(htma, ("POST", "/v1/users"), 201, script=keep_user, body={
            "email": f"patient@{clinic}.example", "password": PASSWORD,
            "display_name": "Pat Patient", "role": "patient"}),
        _step(htma, ("GET", "/v1/users"), 200),
        _step(htma, ("POST", "/v1/auth/login"), 200, body={
            "email": f"admin@{clinic}.example", "password": PASSWORD}),
        _step(htma, ("GET", "/v1/panels"), 200),
        _step(htma, ("GET", "/v1/panels/{panel_id}"), 404,
              path={"panel_id": "00000000-0000-4000-8000-000000000000"}),
    ], {"baseUrl": stack.htma_url})  # fmt: skip

    ingredient = items(load("ingredient"))
    _newman(tmp_path, "ingredient", [
        _step(ingredient, ("GET", "/v1/ingredients"), 200, query={"q": "bean", "limit": "5"}),
        _step(ingredient, ("GET", "/v1/ingredients/{code}"), 200, path={"code": "A001"}),
        _step(ingredient, ("GET", "/v1/minerals"), 200),
        _step(ingredient, ("GET", "/v1/minerals/{mineral}/richest"), 200, path={"mineral": "Zn"}),
        _step(ingredient, ("GET", "/v1/ingredients/{code}"), 404, path={"code": "ZZ999"}),
    ], {"baseUrl": stack.ingredient_url, "bearerToken": _token(stack)})  # fmt: skip
