"""tools/supply_chain.py, driven through its command line: audit, SBOM, secrets.

The audit asks an advisory service about every locked package. The public one cannot be
started here, so the audit tests query a stand-in on loopback that speaks the OSV query API
and holds published advisories; the tool's default service (PyPI's) is the same pip-audit call
with another source.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "supply_chain.py"

# Published advisories (OSV schema), as the OSV API returns them.
ADVISORIES: dict[str, list[dict[str, Any]]] = {
    "jinja2": [
        {
            "id": "GHSA-g3rq-g295-4j3m",
            "aliases": ["CVE-2020-28493"],
            "summary": "Regular Expression Denial of Service (ReDoS) in Jinja2's urlize filter",
            "affected": [
                {
                    "package": {"name": "jinja2", "ecosystem": "PyPI"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.11.3"}]}
                    ],
                }
            ],
        }
    ],
    "urllib3": [
        {
            "id": "GHSA-q2q7-5pp4-w6pg",
            "aliases": ["CVE-2021-33503"],
            "summary": "Catastrophic backtracking in URL authority parser of urllib3",
            "affected": [
                {
                    "package": {"name": "urllib3", "ecosystem": "PyPI"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.26.5"}]}
                    ],
                }
            ],
        }
    ],
}


def affects(advisory: dict[str, Any], version: Version) -> bool:
    for affected in advisory["affected"]:
        for events in affected["ranges"]:
            introduced = Version(events["events"][0]["introduced"])
            fixed = Version(events["events"][1]["fixed"])
            if introduced <= version < fixed:
                return True
    return False


class AdvisoryService:
    """The OSV ``/v1/query`` API on loopback, answering from ADVISORIES."""

    def __init__(self, status: int = 200) -> None:
        self.queries: list[tuple[str, str]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name, version = query["package"]["name"], query["version"]
                service.queries.append((name, version))
                vulns = [a for a in ADVISORIES.get(name, []) if affects(a, Version(version))]
                body = json.dumps({"vulns": vulns} if vulns else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/query"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def advisories() -> Iterator[AdvisoryService]:
    service = AdvisoryService()
    yield service
    service.close()


def tool(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def locked_third_party() -> set[str]:
    """Every package of uv.lock that is not a workspace member."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {
        p["name"]
        for p in lock["package"]
        if not {"editable", "virtual", "workspace"} & set(p.get("source", {}))
    }


# --- audit -----------------------------------------------------------------------------------


def test_audit_asks_about_every_locked_package_and_passes_when_none_is_affected(
    advisories: AdvisoryService,
) -> None:
    result = tool("audit", "--osv-url", advisories.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 known vulnerabilities, 0 not audited" in result.stdout
    queried = {name for name, _ in advisories.queries}
    # Platform-specific packages of other systems may be left out of the export; every
    # package installed here is asked about.
    assert queried <= locked_third_party()
    assert {"starlette", "fastapi", "redis", "celery", "pyjwt", "cryptography"} <= queried
    assert len(queried) > 100


def test_audit_reports_a_known_vulnerable_pin(tmp_path: Path, advisories: AdvisoryService) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("jinja2==2.11.2\nurllib3==1.26.4\nmarkupsafe==2.1.5\n")
    result = tool("audit", "--requirements", str(requirements), "--osv-url", advisories.url)
    assert result.returncode == 1, result.stdout + result.stderr
    findings = {line.split(":")[0]: line for line in result.stdout.splitlines() if ": " in line}
    for line, ids, fixed in [
        (findings["jinja2 2.11.2"], {"GHSA-g3rq-g295-4j3m", "CVE-2020-28493"}, "2.11.3"),
        (findings["urllib3 1.26.4"], {"GHSA-q2q7-5pp4-w6pg", "CVE-2021-33503"}, "1.26.5"),
    ]:
        assert ids <= set(line.replace(",", " ").split()), line
        assert f"(fixed in: {fixed})" in line
    assert "2 known vulnerabilities" in result.stdout
    assert "markupsafe" not in result.stdout.split("audited")[0]


def test_audit_fails_when_the_advisory_service_does_not_answer(tmp_path: Path) -> None:
    failing = AdvisoryService(status=503)
    try:
        requirements = tmp_path / "requirements.txt"
        requirements.write_text("starlette==0.41.0\n")
        result = tool("audit", "--requirements", str(requirements), "--osv-url", failing.url)
    finally:
        failing.close()
    assert failing.queries == [("starlette", "0.41.0")]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pip-audit failed" in result.stderr
    assert "0 known vulnerabilities" not in result.stdout


def test_audit_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = tool("audit", "--requirements", str(tmp_path / "missing.txt"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: no requirements file")


# --- sbom ------------------------------------------------------------------------------------


def test_sbom_of_a_built_wheel_names_the_library_and_its_locked_dependencies(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*uv(), "build", "--quiet", "--package", "spaps-ratelimit", "--wheel", "--out-dir", wheels],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("spaps_ratelimit-*.whl")
    out = tmp_path / "sbom" / "spaps-ratelimit.cdx.json"
    result = tool("sbom", str(wheel), "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr

    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX"
    version = tomllib.loads((ROOT / "libs/spaps-ratelimit/pyproject.toml").read_text())
    version = version["project"]["version"]
    component = bom["metadata"]["component"]
    assert (component["name"], component["version"], component["type"]) == (
        "spaps-ratelimit",
        version,
        "library",
    )
    assert component["purl"] == f"pkg:pypi/spaps-ratelimit@{version}"
    components = {c["name"].lower(): c for c in bom["components"]}
    assert "spaps-ratelimit" not in components  # described once, as the metadata component
    locked = {
        p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    assert components["starlette"]["version"] == locked["starlette"]
    assert components["redis"]["version"] == locked["redis"]  # the redis extra is described too
    (root_deps,) = [d for d in bom["dependencies"] if d["ref"] == component["bom-ref"]]
    assert components["starlette"]["bom-ref"] in root_deps["dependsOn"]


def test_sbom_of_something_that_is_not_a_wheel_is_a_usage_error(tmp_path: Path) -> None:
    bogus = tmp_path / "spaps_x-1.0-py3-none-any.whl"
    bogus.write_text("not a zip archive")
    result = tool("sbom", str(bogus), "--out", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "is not a readable wheel" in result.stderr


# --- secrets ---------------------------------------------------------------------------------


def test_the_tracked_tree_holds_no_secret_beyond_the_audited_baseline() -> None:
    result = tool("secrets")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no secret beyond the audited .secrets.baseline" in result.stdout


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """A git repository with one clean file and an (empty) audited baseline."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / "app.py").write_text('GREETING = "hello"\n')
    git(repo, "add", "app.py")
    scan = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (repo / ".secrets.baseline").write_text(scan.stdout)
    git(repo, "add", ".secrets.baseline")
    git(repo, "commit", "--quiet", "-m", "clean")
    return repo


def test_a_scratch_repository_without_secrets_passes(scratch_repo: Path) -> None:
    result = tool("secrets", "--root", str(scratch_repo))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_committed_cloud_key_and_private_key_fail_the_scan(scratch_repo: Path) -> None:
    # Assembled here, so that this file itself holds neither.
    key_id = "AKIA" + "Q3EGRIKZ7XN4PLMW"
    marker = "RSA PRIVATE KEY-----"
    pem = f"-----BEGIN {marker}\nMIIEowIBAAKCAQEA\n-----END {marker}"
    (scratch_repo / "deploy.py").write_text(f'REGION = "eu-west-1"\nACCESS = "{key_id}"\n')
    (scratch_repo / "id_rsa").write_text(pem + "\n")
    git(scratch_repo, "add", "deploy.py", "id_rsa")
    git(scratch_repo, "commit", "--quiet", "-m", "oops")
    result = tool("secrets", "--root", str(scratch_repo))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AWS Access Key" in result.stdout
    assert "Private Key" in result.stdout
    assert "deploy.py" in result.stdout
    assert "id_rsa" in result.stdout


def test_an_unaudited_baseline_entry_fails_the_scan(scratch_repo: Path) -> None:
    baseline = json.loads((scratch_repo / ".secrets.baseline").read_text())
    baseline["results"] = {
        "app.py": [
            {"type": "Secret Keyword", "hashed_secret": "0" * 40, "line_number": 1},
        ]
    }
    (scratch_repo / ".secrets.baseline").write_text(json.dumps(baseline))
    result = tool("secrets", "--root", str(scratch_repo))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app.py:1 Secret Keyword: not audited as a false positive" in result.stdout


def test_a_repository_without_a_baseline_is_a_usage_error(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    result = tool("secrets", "--root", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no .secrets.baseline" in result.stderr


def test_a_baseline_that_is_not_one_is_a_usage_error(scratch_repo: Path) -> None:
    (scratch_repo / ".secrets.baseline").write_text("not json\n")
    result = tool("secrets", "--root", str(scratch_repo))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "is not a detect-secrets baseline" in result.stderr
