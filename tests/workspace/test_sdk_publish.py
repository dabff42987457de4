"""The services' TypeScript SDKs are published to npm when a service is released.

``.github/workflows/publish-sdk.yml`` runs on a tag ``<service>-v<version>``: a job with no
token checks the tag against the files, packs the SDK and runs ``npm publish --dry-run``;
only then does the one job with an OIDC token publish that tarball with provenance. Its
steps run here as CI runs them (``bash -e``), against a registry that refuses connections,
so the dry run is proven to need no network. The SDK's version is its service's
(``tools/api_contract.py sdk``); drift fails ``sdk --check``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "publish-sdk.yml"
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).parent))  # npm_tools

import api_contract  # noqa: E402
import npm_tools  # noqa: E402
import sdk_package  # noqa: E402

NOWHERE = "http://127.0.0.1:9/"  # the discard port: nothing listens, a request fails at once


def load() -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def job(name: str) -> dict[str, Any]:
    found: dict[str, Any] = load()["jobs"][name]
    return found


def step(job_name: str, step_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in job(job_name)["steps"] if s.get("id") == step_id]
    [only] = found
    return only


def uses(job_name: str, action: str) -> list[dict[str, Any]]:
    return [s for s in job(job_name)["steps"] if str(s.get("uses", "")).startswith(action + "@")]


def scripts(job_name: str) -> str:
    return "\n".join(str(s.get("run", "")) for s in job(job_name)["steps"])


def test_runs_on_service_release_tags_and_by_hand_as_a_dry_run() -> None:
    trigger = load()["on"]
    assert trigger["push"] == {"tags": [f"{s}-v*" for s in sdk_package.SERVICES]}
    by_hand = trigger["workflow_dispatch"]["inputs"]
    assert by_hand["dry-run"]["type"] == "boolean"
    assert by_hand["dry-run"]["default"] is True  # rehearsing is what a click does
    called = trigger["workflow_call"]["inputs"]
    assert called["tag"]["required"] is True
    assert called["dry-run"]["type"] == "boolean"


def test_only_the_publish_job_holds_an_oidc_token_and_a_dry_run_skips_it() -> None:
    assert load()["permissions"] == {}
    assert job("pack")["permissions"] == {"contents": "read"}
    publish = job("publish")
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["needs"] == "pack"
    assert publish["if"] == "${{ !inputs.dry-run }}"  # a tag push has no inputs: publishes
    assert publish["environment"]["name"] == "npm"
    assert not uses("publish", "actions/checkout")
    [downloaded] = uses("publish", "actions/download-artifact")
    [uploaded] = uses("pack", "actions/upload-artifact")
    assert downloaded["with"]["name"] == uploaded["with"]["name"]


def test_the_publish_command_has_provenance_and_the_dry_run_none() -> None:
    publish = scripts("publish")
    assert 'npm publish "sdk-dist/$TARBALL" --provenance --access public' in publish
    assert "--dry-run" not in publish
    dry_run = step("pack", "dry-run")["run"]
    assert "npm publish" in dry_run
    assert "--dry-run" in dry_run
    assert "--provenance" not in dry_run  # no OIDC token in this job to sign with
    assert "tools/sdk_package.py verify-tag" in scripts("pack")
    assert "tools/api_contract.py sdk --check" in scripts("pack")


def test_node_is_set_up_by_a_pinned_action_without_a_cache() -> None:
    for name in ("pack", "publish"):
        [setup] = uses(name, "actions/setup-node")
        ref = setup["uses"].split("@", 1)[1]
        assert len(ref) == 40
        assert all(c in "0123456789abcdef" for c in ref)
        assert setup["with"]["package-manager-cache"] is False  # a release reads no cache
    [publisher] = uses("publish", "actions/setup-node")
    assert publisher["with"]["registry-url"] == "https://registry.npmjs.org"
    # npm trusted publishing needs npm 11.5.1+: Node 24 ships npm 11.
    assert publisher["with"]["node-version"] == "24"


# --- the version sync and the tag check --------------------------------------------------


def test_each_sdk_has_its_services_version() -> None:
    for service in sdk_package.SERVICES:
        package = json.loads((sdk_package.package_folder(service) / "package.json").read_text())
        assert package["name"] == f"@spaps/{service}-client"
        assert package["version"] == sdk_package.service_version(service)
        assert sdk_package.verify_tag(f"{service}-v{package['version']}") == (
            service,
            package["version"],
        )


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the services' pyprojects and the SDKs' package.json the tools read."""
    for service in sdk_package.SERVICES:
        for relative in (
            f"services/{service}/pyproject.toml",
            f"clients/typescript/{service}/package.json",
        ):
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / relative, tmp_path / relative)
    monkeypatch.setattr(sdk_package, "ROOT", tmp_path)
    monkeypatch.setattr(api_contract, "ROOT", tmp_path)
    monkeypatch.setattr(api_contract, "CLIENTS", tmp_path / "clients")
    return tmp_path


def version_of(package_json: str) -> str:
    return str(json.loads(package_json)["version"])


def bump(root: Path, service: str, version: str) -> None:
    pyproject = root / "services" / service / "pyproject.toml"
    current = sdk_package.service_version(service)
    text = pyproject.read_text().replace(f'version = "{current}"', f'version = "{version}"', 1)
    pyproject.write_text(text)


def test_sdk_check_names_a_package_behind_its_service_and_sdk_writes_it(scratch: Path) -> None:
    assert api_contract.write_or_check(["sdk-package"], check=True) == []
    bump(scratch, "htma", "9.8.7")
    assert sdk_package.service_version("htma") == "9.8.7"
    assert api_contract.write_or_check(["sdk-package"], check=True) == [
        "clients/typescript/htma/package.json"
    ]
    with pytest.raises(ValueError, match="is at 0"):
        sdk_package.verify_tag("htma-v9.8.7")  # the tag agrees with the service, not the SDK

    before = (scratch / "clients/typescript/htma/package.json").read_text()
    api_contract.write_or_check(["sdk-package"], check=False)
    after = (scratch / "clients/typescript/htma/package.json").read_text()
    assert json.loads(after) == {**json.loads(before), "version": "9.8.7"}
    # Only the version line changed: the file stays as npm formats it.
    assert len(before.splitlines()) == len(after.splitlines())
    lines = zip(before.splitlines(), after.splitlines(), strict=True)
    assert [old for old, new in lines if old != new] == [f'  "version": "{version_of(before)}",']
    assert api_contract.write_or_check(["sdk-package"], check=True) == []
    assert sdk_package.verify_tag("htma-v9.8.7") == ("htma", "9.8.7")


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("htma-v0.0.1", "services/htma is at"),
        ("spaps-ops-v0.4.0", "not a service release tag"),
        ("htma-0.4.0", "not a service release tag"),
        ("billing-v1.0.0", "not a service release tag"),
    ],
)
def test_a_tag_the_files_disagree_with_is_refused(tag: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        sdk_package.verify_tag(tag)


# --- the workflow's own steps, run here ---------------------------------------------------


def run_step(
    job_name: str, step_id: str, tmp_path: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one step's script as CI would (``bash -e``); return it and the outputs it set."""
    output = tmp_path / f"{step_id}.output"
    output.write_text("")
    merged = {
        **os.environ,
        **job(job_name).get("env", {}),
        **step(job_name, step_id).get("env", {}),
    }
    merged.update(env, GITHUB_OUTPUT=str(output), NPM_CONFIG_REGISTRY=NOWHERE)
    result = subprocess.run(
        ["bash", "-e", "-c", step(job_name, step_id)["run"]], cwd=ROOT, env=merged,
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    lines = output.read_text().splitlines()
    return result, dict(line.split("=", 1) for line in lines)


def test_the_tag_step_refuses_a_tag_the_files_disagree_with(tmp_path: Path) -> None:
    result, outputs = run_step("pack", "tag", tmp_path, TAG="htma-v0.0.1")
    assert result.returncode != 0
    assert "services/htma is at" in result.stderr
    assert outputs == {}


def _npm_ready() -> None:
    """Skip without npm and the locked packages (fails instead under
    SPAPS_REQUIRE_SERVICES)."""
    npm_tools.require("npm")


@pytest.mark.slow
@pytest.mark.parametrize("service", sdk_package.SERVICES)
def test_the_workflow_packs_and_dry_run_publishes_each_sdk(service: str, tmp_path: Path) -> None:
    _npm_ready()
    version = sdk_package.service_version(service)
    tag = f"{service}-v{version}"
    result, verified = run_step("pack", "tag", tmp_path, TAG=tag)
    assert result.returncode == 0, result.stderr
    assert verified == {
        "service": service,
        "version": version,
        "folder": f"clients/typescript/{service}",
    }

    dist = tmp_path / "sdk-dist"
    # The step builds the SDK into clients/typescript/<service>/dist, which the smoke
    # contract tests build and read too: the same lock as theirs (tests/smoke/npm_clients.py).
    with FileLock(ROOT / "clients" / "node_modules" / ".spaps-sdk-build.lock"):
        result, packed = run_step(
            "pack", "pack", tmp_path, TAG=tag, SERVICE=service, SDK_DIST=str(dist)
        )
    assert result.returncode == 0, result.stdout + result.stderr
    name = f"@spaps/{service}-client"
    assert packed == {"package": name, "tarball": f"spaps-{service}-client-{version}.tgz"}
    with tarfile.open(dist / packed["tarball"]) as archive:
        names = set(archive.getnames())
        manifest = archive.extractfile("package/package.json")
        assert manifest is not None
        package = json.loads(manifest.read())
    assert (package["name"], package["version"]) == (name, version)
    assert package["files"] == ["dist/src"]
    assert {
        "package/package.json",
        "package/dist/src/index.js",
        "package/dist/src/index.d.ts",
        "package/dist/src/schema.d.ts",
    } <= names
    assert all(n == "package/package.json" or n.startswith("package/dist/src/") for n in names)

    result, _ = run_step("pack", "dry-run", tmp_path, TARBALL=packed["tarball"], SDK_DIST=str(dist))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"+ {name}@{version}" in result.stdout
    assert "(dry-run)" in result.stderr
    assert f"Publishing to {NOWHERE}" in result.stderr  # the refusing registry: no request


@pytest.mark.slow
@pytest.mark.parametrize("service", sdk_package.SERVICES)
def test_npm_pack_dry_run_lists_only_the_built_package(service: str) -> None:
    _npm_ready()
    packed = subprocess.run(
        ["npm", "pack", "--dry-run", "--json", "--workspace", f"typescript/{service}"],
        cwd=api_contract.CLIENTS, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "NPM_CONFIG_REGISTRY": NOWHERE},
    )  # fmt: skip
    assert packed.returncode == 0, packed.stdout + packed.stderr
    [report] = json.loads(packed.stdout[packed.stdout.index("[") :])
    assert report["name"] == f"@spaps/{service}-client"
    assert report["version"] == sdk_package.service_version(service)
    paths = {entry["path"] for entry in report["files"]}
    assert {"package.json", "dist/src/index.js", "dist/src/schema.d.ts"} <= paths
    assert all(p == "package.json" or p.startswith("dist/src/") for p in paths)
