"""A minor release of spaps-jobs rehearsed end to end in a scratch clone: the walkthrough
block of docs/releasing.md runs as written (bump refused, then dependents widened and the
lock updated; consistency and API checks; commit; build; check the built files; publish to
a package index on loopback), then a project outside the workspace installs both libraries
from that index only and serves an app that uses them, called over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

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


# A package index (pypiserver, uploads open, no fallback to another index) on a loopback
# port the kernel picks; it prints the port, then serves. Its own process: pypiserver's
# bundled bottle installs an import hook and imports the deprecated cgi module.
INDEX_SERVER = """
import sys, warnings
from wsgiref.simple_server import WSGIRequestHandler, make_server
warnings.simplefilter("ignore", DeprecationWarning)
import pypiserver

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

app = pypiserver.app(roots=[sys.argv[1]], authenticate=[], password_file=".", disable_fallback=True)
server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    """The URL of a package index on loopback, served by a process of its own."""
    packages = tmp_path / "index"
    packages.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-c", INDEX_SERVER, str(packages)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def run(cwd: Path, *cmd: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        list(cmd), cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def tools(clone: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"SPAPS_WORKSPACE_ROOT", "VIRTUAL_ENV"}}
    return run(clone, sys.executable, *args, env=env)


def walkthrough() -> str:
    """The first ``sh`` block under the walkthrough heading of docs/releasing.md."""
    text = (ROOT / "docs" / "releasing.md").read_text()
    section = text.split("## Walkthrough", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


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

    # The walkthrough, exactly as docs/releasing.md shows it.
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in {"SPAPS_WORKSPACE_ROOT", "VIRTUAL_ENV"}}
    env |= {
        "PATH": f"{venv_bin}{os.pathsep}{env['PATH']}",
        "INDEX": index,
        "GIT_AUTHOR_NAME": "r",
        "GIT_AUTHOR_EMAIL": "r@example.invalid",
        "GIT_COMMITTER_NAME": "r",
        "GIT_COMMITTER_EMAIL": "r@example.invalid",
    }
    script = walkthrough()
    output = run(clone, "bash", "-euo", "pipefail", "-c", script, env=env)
    assert "refused: dependents exclude it" in output

    new = version_of(clone, "spaps-jobs")
    major, minor, _ = (int(x) for x in old.split("."))
    assert new == f"{major}.{minor + 1}.0"
    for folder in ("libs/spaps-webhooks", "services/htma", "services/ingredient"):
        project = tomllib.loads((clone / folder / "pyproject.toml").read_text())["project"]
        (spec,) = (r for r in map(Requirement, project["dependencies"]) if r.name == "spaps-jobs")
        assert spec.specifier.contains(new), (folder, str(spec))  # extras kept, range widened
        unreleased = (clone / folder / "CHANGELOG.md").read_text().split("## [Unreleased]")[1]
        assert f"Allows spaps-jobs {new}" in unreleased.split("\n## ")[0]
    lock = (clone / "uv.lock").read_text()
    assert f'name = "spaps-jobs"\nversion = "{new}"' in lock
    assert not run(clone, "git", "status", "--porcelain", "--untracked-files=no").strip()
    listing = httpx.get(f"{index}simple/spaps-jobs/").text
    assert f"spaps_jobs-{new}-py3-none-any.whl" in listing
    assert (clone / "dist" / f"spaps_jobs-{new}.tar.gz").exists()

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
                if time.monotonic() > deadline:  # only fails a hang; nothing is timed
                    pytest.fail("the outside app never answered")
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
