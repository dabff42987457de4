"""The CI and release workflows: valid, hardened, and shaped the way a release must run.

A release builds with no token, tests THE built files in a fresh venv, and only then publishes
them from the one job that holds an OIDC token; the tag path lives in release.yml alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
PUBLISH = "_publish.yml"
ZERO = "0" * 40

_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?:#\s*(?P<comment>.*))?$")
_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]


def jobs_with(name: str, permission: str, level: str) -> list[str]:
    return sorted(
        job_id
        for job_id, job in load(name)["jobs"].items()
        if (job.get("permissions") or {}).get(permission) == level
    )


def test_the_workflows_are_there() -> None:
    assert {"ci.yml", "release.yml", PUBLISH} <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_workflow_matches_the_github_schema(name: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOWS / name),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_of_medium_severity_or_above() -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
    result = subprocess.run(
        [zizmor, "--offline", "--min-severity", "medium", "--format", "json", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert yaml.safe_load(result.stdout) == [], result.stdout


@pytest.mark.parametrize("name", FILES)
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    found = 0
    for number, line in enumerate((WORKFLOWS / name).read_text().splitlines(), 1):
        match = _USES.match(line)
        if match is None:
            continue
        found += 1
        ref, comment = match["ref"], match["comment"] or ""
        if ref.startswith(("./", "$/")):  # this repository, at the running commit
            continue
        assert _PINNED.match(ref), f"{name}:{number}: {ref} is not pinned to a 40-hex commit"
        assert re.match(r"^v\d+\.\d+\.\d+\b", comment), f"{name}:{number}: no # vX.Y.Z comment"
    assert found


@pytest.mark.parametrize("name", FILES)
def test_no_expression_inside_a_run_script_and_no_secrets(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    assert "secrets." not in text
    assert "secrets: inherit" not in text
    for job_id, job in load(name)["jobs"].items():
        for step in steps(job):
            assert "${{" not in str(step.get("run", "")), f"{name} {job_id}: {step}"


@pytest.mark.parametrize("name", FILES)
def test_every_job_declares_its_permissions_and_the_default_grants_nothing(name: str) -> None:
    workflow = load(name)
    assert workflow.get("permissions") in ({}, {"contents": "read"})
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name}: job {job_id} declares no permissions"


@pytest.mark.parametrize("name", FILES)
def test_checkouts_do_not_persist_credentials(name: str) -> None:
    for job_id, job in load(name)["jobs"].items():
        for step in uses(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{name} {job_id}"


def test_only_the_publish_job_holds_an_oidc_token() -> None:
    assert jobs_with(PUBLISH, "id-token", "write") == ["publish"]
    assert jobs_with("ci.yml", "id-token", "write") == []
    callers = [
        job_id
        for job_id, job in load("release.yml")["jobs"].items()
        if str(job.get("uses", "")).endswith(f"/.github/workflows/{PUBLISH}")
    ]
    # A reusable workflow gets no more than its caller grants.
    assert jobs_with("release.yml", "id-token", "write") == callers == ["publish"]


def test_only_the_github_release_job_writes_to_the_repository() -> None:
    assert jobs_with(PUBLISH, "contents", "write") == ["github-release"]
    assert jobs_with("ci.yml", "contents", "write") == []
    assert jobs_with(PUBLISH, "contents", "read") == ["build", "test"]
    release = load(PUBLISH)["jobs"]["github-release"]
    assert release["permissions"] == {"contents": "write"}
    assert "gh release create" in runs(release)
    assert "notes" in runs(release)


def test_publish_is_reusable_with_the_release_point_as_inputs() -> None:
    trigger = load(PUBLISH)["on"]
    assert list(trigger) == ["workflow_call"]
    inputs = trigger["workflow_call"]["inputs"]
    assert {name for name, spec in inputs.items() if spec.get("required")} == {
        "dist",
        "version",
        "commit",
    }
    assert inputs["repository-url"].get("required") is False


def test_build_job_builds_checks_and_describes_the_files_without_a_token() -> None:
    build = load(PUBLISH)["jobs"]["build"]
    assert build["permissions"] == {"contents": "read"}
    script = runs(build)
    assert "tools/release.py verify-release" in script
    assert "tools/release.py build" in script
    assert "tools/release.py check-dist" in script
    assert "tools/supply_chain.py sbom" in script
    uploaded = {step["with"]["name"] for step in uses(build, "actions/upload-artifact")}
    assert {"dist-${{ inputs.dist }}", "sbom-${{ inputs.dist }}"} <= uploaded


def test_test_job_installs_the_downloaded_files_in_an_uncached_venv() -> None:
    test = load(PUBLISH)["jobs"]["test"]
    assert test["needs"] == "build"
    assert str(test["env"]["UV_NO_CACHE"]) == "1"
    downloaded = [step["with"] for step in uses(test, "actions/download-artifact")]
    assert downloaded == [{"name": "dist-${{ inputs.dist }}", "path": "dist"}]
    script = runs(test)
    # The release's own tests, at the newest and the lowest versions its ranges allow,
    # against the downloaded files.
    for point in ("newest", "lowest"):
        assert re.search(
            rf"tools/compat_matrix\.py run \S+ {point}\s+--release \S+ --wheel-dir dist", script
        ), point
    assert {"postgres", "redis", "rabbitmq"} <= set(test["services"])


def test_publish_job_uploads_the_tested_files_and_checks_nothing_out() -> None:
    publish = load(PUBLISH)["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "release"
    assert set(publish["needs"]) == {"build", "test"}
    assert not uses(publish, "actions/checkout")
    downloaded = [step["with"] for step in uses(publish, "actions/download-artifact")]
    assert downloaded == [{"name": "dist-${{ inputs.dist }}", "path": "dist"}]
    assert "--trusted-publishing always" in runs(publish)


def test_ci_has_no_tag_path_and_no_publishing() -> None:
    ci = load("ci.yml")
    push = ci["on"]["push"]
    assert "tags" not in push
    assert push["branches"] == ["main"]
    text = (WORKFLOWS / "ci.yml").read_text()
    assert PUBLISH not in text
    assert "id-token" not in text
    script = "\n".join(runs(job) for job in ci["jobs"].values())
    assert "tools/standalone_check.py" in script
    assert "tools/compat_matrix.py run" in script
    assert "uv pip check" in script
    assert "tools/supply_chain.py audit" in script
    assert "tools/supply_chain.py secrets" in script


def test_release_runs_on_release_points_and_tags() -> None:
    release = load("release.yml")
    push = release["on"]["push"]
    assert push["branches"] == ["main"]
    assert push["paths"] == ["releases.json"]
    assert push["tags"] == ["spaps-*-v*"]
    plan = release["jobs"]["plan"]
    assert "tools/release.py verify-tag" in runs(plan)
    assert "tools/release.py pending --json" in runs(plan)
    caller = release["jobs"]["publish"]
    assert caller["uses"] == f"$/.github/workflows/{PUBLISH}"
    assert set(caller["with"]) == {"dist", "version", "commit"}


def run_step(
    tmp_path: Path, name: str, job: str, step_id: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one step's script as CI would (bash -e); return it and the outputs it set."""
    (step,) = [s for s in steps(load(name)["jobs"][job]) if s.get("id") == step_id]
    output = tmp_path / "github_output"
    output.touch()
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=ROOT,
        env={**os.environ, **env, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return result, dict(line.split("=", 1) for line in output.read_text().splitlines())


def affected_outputs(tmp_path: Path, **env: str) -> dict[str, str]:
    result, outputs = run_step(tmp_path, "ci.yml", "affected", "list", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return outputs


@pytest.mark.parametrize(
    "before",
    [ZERO, "", "f" * 40],
    ids=["all-zero", "missing", "not-in-history"],
)
def test_a_push_with_no_usable_base_affects_every_package(tmp_path: Path, before: str) -> None:
    outputs = affected_outputs(tmp_path, EVENT_NAME="push", PUSH_BEFORE=before, PR_BASE="")
    libraries = sorted(p.parent.name for p in (ROOT / "libs").glob("*/pyproject.toml"))
    assert json.loads(outputs["libraries"]) == libraries
    lowest = json.loads(outputs["lowest"])
    assert {"htma", "ingredient", "spaps-webhooks"} <= set(lowest)
    assert "spaps-ops" not in lowest  # no sibling dependency: its stand-alone run covers it


def test_a_push_to_main_plans_every_pending_release_point(tmp_path: Path) -> None:
    result, outputs = run_step(
        tmp_path, "release.yml", "plan", "plan", REF_TYPE="branch", REF_NAME="main", COMMIT=ZERO
    )
    assert result.returncode == 0, result.stdout + result.stderr
    releases = json.loads(outputs["releases"])
    assert isinstance(releases, list)
    for point in releases:
        assert set(point) == {"dist", "version", "tag", "commit"}
        assert point["tag"] == f"{point['dist']}-v{point['version']}"
        assert re.fullmatch(r"[0-9a-f]{40}", point["commit"])


def test_a_tag_that_names_no_release_point_plans_nothing(tmp_path: Path) -> None:
    result, outputs = run_step(
        tmp_path,
        "release.yml",
        "plan",
        "plan",
        REF_TYPE="tag",
        REF_NAME="spaps-ops-v99.0.0",
        COMMIT=ZERO,
    )
    assert result.returncode != 0
    assert "releases" not in outputs
