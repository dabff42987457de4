"""A minor release of spaps-jobs rehearsed end to end in a scratch clone, as docs/releasing.md
walks it: bump (dependents widened, lock updated), build, check the built files, publish to
a package index on loopback, then install both libraries from that index into a project
outside the workspace and serve an app that uses them, over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pypiserver
import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

OUTSIDE_PYPROJECT = """[project]
name = "outside-app"
version = "0"
requires-python = ">=3.11"
dependencies = ["spaps-jobs=={jobs}", "spaps-webhooks=={webhooks}", "fastapi", "uvicorn"]

[tool.uv]
package = false

[[tool.uv.index]]
name = "rehearsal"
url = "{index}"
explicit = true

[tool.uv.sources]
spaps-jobs = {{ index = "rehearsal" }}
spaps-webhooks = {{ index = "rehearsal" }}
"""

OUTSIDE_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from spaps_jobs import JobsSettings, create_celery_app
from spaps_webhooks import WebhookVerificationError, WebhookVerifier, sign_headers

app = FastAPI()
jobs = create_celery_app(JobsSettings(name="outside"))
verifier = WebhookVerifier(secrets=["{secret}"])


@app.post("/sign/{{msg_id}}")
async def sign(msg_id: str, request: Request) -> dict[str, str]:
    return sign_headers(["{secret}"], msg_id, await request.body())


@app.post("/hooks")
async def hooks(request: Request) -> JSONResponse:
    try:
        verified = verifier.verify(dict(request.headers), await request.body())
    except WebhookVerificationError as exc:
        return JSONResponse({{"refused": type(exc).__name__}}, status_code=400)
    return JSONResponse({{"data": verified.json(), "jobs": jobs.main}})
"""


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged."""


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    """A package index (pypiserver) on a loopback port the kernel picked, uploads open."""
    packages = tmp_path / "index"
    packages.mkdir()
    app = pypiserver.app(
        roots=[str(packages)], authenticate=[], password_file=".", disable_fallback=True
    )
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def run(cwd: Path, *cmd: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        list(cmd), cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def tools(clone: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"SPAPS_WORKSPACE_ROOT", "VIRTUAL_ENV"}}
    return run(clone, sys.executable, *args, env=env)


def version_of(clone: Path, dist: str) -> str:
    return tools(clone, "tools/release.py", "version", dist).strip()


@pytest.mark.slow
def test_minor_release_of_spaps_jobs_end_to_end(tmp_path: Path, index: str) -> None:
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "--quiet", str(ROOT), str(clone))
    old = version_of(clone, "spaps-jobs")
    changelog = clone / "libs/spaps-jobs/CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n- Added: a rehearsal change.\n", 1
        )
    )

    # 1. Bump: refused while dependents' ranges exclude it, done with --widen-dependents.
    refused = subprocess.run(
        [sys.executable, "tools/release.py", "bump", "spaps-jobs", "minor"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=False,
    )
    new = tools(clone, "tools/release.py", "bump", "spaps-jobs", "minor", "--widen-dependents")
    new = new.strip()
    major, minor, _ = (int(x) for x in old.split("."))
    assert new == f"{major}.{minor + 1}.0"
    dependents = ["libs/spaps-webhooks", "services/htma", "services/ingredient"]
    widened = [
        d for d in dependents if "spaps-jobs>=" in (clone / d / "pyproject.toml").read_text()
    ]
    assert widened == dependents
    # Ranges end below the next minor while 0.x, so the first attempt always stops.
    assert refused.returncode == 2
    assert "--widen-dependents" in refused.stderr
    for folder in dependents:
        unreleased = (clone / folder / "CHANGELOG.md").read_text().split("## [Unreleased]")[1]
        assert f"allows spaps-jobs {new}" in unreleased.split("\n## ")[0]

    # 2. The lock is current and every range admits every member's version.
    run(clone, "uv", "lock", "--locked")
    lock = (clone / "uv.lock").read_text()
    assert f'name = "spaps-jobs"\nversion = "{new}"' in lock
    tools(clone, "tools/release.py", "consistency")
    run(clone, "git", "add", "-A")
    run(
        clone,
        "git",
        "-c",
        "user.name=r",
        "-c",
        "user.email=r@example.invalid",
        "commit",
        "-qm",
        f"release spaps-jobs {new}",
    )
    tools(clone, "tools/release.py", "verify-release", "spaps-jobs", new)

    # 3. Build both libraries as released and check the built files.
    dist = tmp_path / "dist"
    for lib in ("spaps-jobs", "spaps-webhooks"):
        tools(clone, "tools/release.py", "build", lib, "--out", str(dist))
        tools(clone, "tools/release.py", "check-dist", lib, str(dist))

    # 4. Publish them to the index on loopback.
    files = sorted(str(p) for p in dist.iterdir())
    run(tmp_path, "uv", "publish", "--publish-url", index, "-u", "r", "-p", "r", *files)
    listing = httpx.get(f"{index}simple/spaps-jobs/").text
    assert f"spaps_jobs-{new}-py3-none-any.whl" in listing

    # 5. A project outside the workspace installs them from that index only.
    outside = tmp_path / "outside"
    outside.mkdir()
    webhooks = version_of(clone, "spaps-webhooks")
    (outside / "pyproject.toml").write_text(
        OUTSIDE_PYPROJECT.format(jobs=new, webhooks=webhooks, index=f"{index}simple/")
    )
    (outside / "app.py").write_text(OUTSIDE_APP.format(secret=SECRET))
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    run(outside, "uv", "sync", "--quiet", "--python", sys.executable, env=env)
    freeze = run(outside, "uv", "pip", "freeze", "--python", str(outside / ".venv/bin/python"))
    assert f"spaps-jobs=={new}" in freeze
    assert f"spaps-webhooks=={webhooks}" in freeze
    sources = json.loads(
        run(
            outside,
            str(outside / ".venv/bin/python"),
            "-c",
            "import json, spaps_jobs, spaps_webhooks; "
            "print(json.dumps([spaps_jobs.__file__, spaps_webhooks.__file__]))",
        )
    )
    assert all(path.startswith(str(outside / ".venv")) for path in sources)

    # 6. Serve the app and call it over HTTP.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = subprocess.Popen(
        [
            str(outside / ".venv/bin/python"),
            "-m",
            "uvicorn",
            "app:app",
            "--fd",
            str(listener.fileno()),
            "--log-level",
            "warning",
        ],
        cwd=outside,
        pass_fds=[listener.fileno()],
        env=env,
    )
    listener.close()
    try:
        base = f"http://127.0.0.1:{port}"
        body = b'{"type":"rehearsal.v1","data":{"ok":true}}'
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the outside app exited"
            try:
                headers = httpx.post(f"{base}/sign/msg_1", content=body).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the outside app never answered"
                time.sleep(0.05)  # sleep-ok: polling interval while the server starts
        answer = httpx.post(f"{base}/hooks", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "data": {"type": "rehearsal.v1", "data": {"ok": True}},
            "jobs": "outside",
        }
        forged = httpx.post(
            f"{base}/hooks", content=body.replace(b"true", b"false"), headers=headers
        )
        assert forged.status_code == 400
        assert forged.json() == {"refused": "WebhookSignatureError"}
    finally:
        server.terminate()
        server.wait(timeout=30)
