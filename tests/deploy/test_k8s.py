"""The Kubernetes manifests: valid against the Kubernetes schemas (kubernetes-validate,
strict), consistent with the images and the services' real routes, ports and settings,
and locked down (non-root, read-only root, no privilege escalation, no capability)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import deploykit as kit
import pytest

FILES = sorted((kit.DEPLOY / "k8s").glob("*/*.yaml"))
WORKLOADS = {"Deployment", "Job"}


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    found = shutil.which("kubernetes-validate")
    assert found, "kubernetes-validate is not installed (the dev group's wheel)"
    return subprocess.run(
        [found, "--strict", "--quiet", *map(str, paths)],
        capture_output=True, text=True, timeout=kit.HANG, check=False,
    )  # fmt: skip


def test_manifests_match_the_kubernetes_schemas() -> None:
    assert {p.parent.name for p in FILES} == set(kit.SERVICES)
    result = validate(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validation_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    document = (kit.DEPLOY / "k8s" / "htma" / "service.yaml").read_text()
    broken.write_text(document.replace("port: 8000", "port: eight-thousand"))
    result = validate(broken)
    assert result.returncode != 0
    assert "eight-thousand" in result.stdout + result.stderr


def workloads(service: str) -> list[dict[str, Any]]:
    return [d for d in kit.manifests(service) if d["kind"] in WORKLOADS]


@pytest.mark.parametrize("service", kit.SERVICES)
def test_every_workload_is_locked_down_and_sized(service: str) -> None:
    for workload in workloads(service):
        pod = workload["spec"]["template"]["spec"]
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod["automountServiceAccountToken"] is False, where
        for container in kit.containers(workload):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, where
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{where}: a writable /tmp on a read-only root"  # noqa: S108 -- a mount path
            assert container["image"].split(":")[0].endswith(f"/{service}"), where


@pytest.mark.parametrize("service", kit.SERVICES)
def test_the_api_runs_the_image_command_with_probes_on_its_real_routes(service: str) -> None:
    deployment = kit.manifest(service, "Deployment", service)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    command = kit.start_command(service)
    assert container["command"] == command
    port = int(kit.option(command, "--port"))
    [named] = container["ports"]
    assert (named["name"], named["containerPort"]) == ("http", port)
    probes = {name: container[name]["httpGet"] for name in
              ("startupProbe", "livenessProbe", "readinessProbe")}  # fmt: skip
    assert probes["readinessProbe"]["path"] == "/health/ready"
    assert probes["livenessProbe"]["path"] == "/health/live"
    assert probes["startupProbe"]["path"] == "/health/live"
    assert {p["port"] for p in probes.values()} == {"http"}
    # Behind the ingress, its X-Forwarded-For must be believed (per-IP limits): the
    # service's own trusted-proxies setting, which uvicorn and the rate limits read.
    trusted = f"{service.upper()}_TRUSTED_PROXIES"
    assert trusted in kit.variables(service)
    assert kit.manifest(service, "ConfigMap", f"{service}-config")["data"][trusted]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    # test_images.py requests these paths on the running image command.


@pytest.mark.parametrize("service", kit.SERVICES)
def test_service_ingress_hpa_and_pdb_point_at_the_api(service: str) -> None:
    deployment = kit.manifest(service, "Deployment", service)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    svc = kit.manifest(service, "Service", service)
    assert svc["spec"]["selector"] == selector
    [port] = svc["spec"]["ports"]
    assert port["targetPort"] == "http"
    ingress = kit.manifest(service, "Ingress", service)
    backends = [
        path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == [{"name": service, "port": {"name": port["name"]}}]
    assert ingress["spec"]["tls"], "TLS at the ingress"
    hpa = kit.manifest(service, "HorizontalPodAutoscaler", service)
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", service)
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = kit.manifest(service, "PodDisruptionBudget", service)
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "drains can proceed"


@pytest.mark.parametrize("service", kit.SERVICES)
def test_the_migration_job_runs_the_migrate_command_as_the_schema_owner(service: str) -> None:
    job = kit.manifest(service, "Job", f"{service}-migrate")
    [container] = kit.containers(job)
    assert container["command"] == [service, "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    [url] = container["env"]
    assert url["name"] == f"{kit.load_tool('config_reference').env_prefix(service)}DATABASE_URL"
    assert url["valueFrom"]["secretKeyRef"]["name"] == f"{service}-migrations"
    api = kit.manifest(service, "Deployment", service)
    [api_container] = kit.containers(api)
    assert container["image"] == api_container["image"], "the release's own migrations"


def test_htma_workers_scale_out_beside_one_beat_with_the_shared_signing_keys() -> None:
    worker = kit.manifest("htma", "Deployment", "htma-worker")
    [container] = kit.containers(worker)
    assert container["command"] == ["htma", "worker", "--no-beat"]
    beat = kit.manifest("htma", "Deployment", "htma-beat")
    assert beat["spec"]["replicas"] == 1, "beat must never run twice"
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    [container] = kit.containers(beat)
    assert container["command"] == ["htma", "beat"]
    config = kit.manifest("htma", "ConfigMap", "htma-config")["data"]
    # The workers serve their metrics on the configured port, announced for scraping.
    [container] = kit.containers(worker)
    port = int(config["HTMA_WORKER_METRICS_PORT"])
    assert {"name": "metrics", "containerPort": port} in container["ports"]
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port
    keys_path = config["HTMA_SIGNING_KEYS_PATH"]
    for name in ("htma", "htma-worker", "htma-beat"):
        [c] = kit.containers(kit.manifest("htma", "Deployment", name))
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        assert mounts[keys_path]["readOnly"] is True
        # .data holds the key file, and beat's schedule by default: a writable folder.
        assert str(Path(keys_path).parent) in mounts


def test_ingredient_runs_one_worker_whose_beat_purges() -> None:
    worker = kit.manifest("ingredient", "Deployment", "ingredient-worker")
    assert worker["spec"]["replicas"] == 1, "its embedded beat must never run twice"
    assert worker["spec"]["strategy"]["type"] == "Recreate"
    [container] = kit.containers(worker)
    assert container["command"] == ["ingredient", "worker"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/app/.data" in mounts  # beat's schedule file: a writable folder


@pytest.mark.parametrize("service", kit.SERVICES)
def test_configuration_names_real_settings_and_keeps_secrets_out(service: str) -> None:
    names = kit.variables(service)
    config = kit.manifest(service, "ConfigMap", f"{service}-config")["data"]
    assert set(config) <= set(names), sorted(set(config) - set(names))
    leaked = sorted(k for k in config if names[k].secret)
    assert not leaked, f"secrets in the ConfigMap: {leaked}"
    for workload in workloads(service):
        for container in kit.containers(workload):
            for env in container.get("env", []):
                if env["name"] in kit.load_tool("config_reference").SERVER_VARIABLES:
                    continue  # read by uvicorn, not a setting
                assert env["name"] in names, env["name"]
                assert "value" not in env, f"{env['name']}: values come from refs"
            refs = container.get("envFrom", [])
            assert {"configMapRef": {"name": f"{service}-config"}} in refs


@pytest.mark.parametrize("service", kit.SERVICES)
def test_the_config_map_with_its_secrets_is_a_valid_production_configuration(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    config = kit.manifest(service, "ConfigMap", f"{service}-config")["data"]
    secrets = {
        name: kit.secret_value(name) for name, v in kit.variables(service).items() if v.secret
    }
    settings = kit.build_settings(service, {**config, **secrets}, monkeypatch)
    assert settings.is_production
    settings.check_production()
    # The documented Secret keys are exactly the secret settings.
    comment = (kit.DEPLOY / "k8s" / service / "configmap.yaml").read_text()
    for name in secrets:
        assert name in comment, f"{name} is not listed among the Secret's keys"
