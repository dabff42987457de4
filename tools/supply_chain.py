"""Supply-chain checks: known vulnerabilities, software bills of materials, committed secrets.

Subcommands::

    python tools/supply_chain.py audit [--requirements FILE] [--osv-url URL]
        every third-party package locked in uv.lock (all members, extras and groups), or
        pinned in FILE, against the advisory data of PyPI (or of an OSV-compatible API);
        exit 1 on a known vulnerability and on a package that could not be audited
    python tools/supply_chain.py sbom WHEEL --out FILE [--find-links DIR ...]
        CycloneDX JSON SBOM of one wheel, installed with all its extras in a fresh virtual
        environment, versions constrained to uv.lock; the wheel's project is the BOM's
        metadata component (sibling libraries come from the index or from --find-links)
    python tools/supply_chain.py secrets [--root DIR]
        the tracked files (uv.lock and releases.json aside) hold no secret beyond the
        audited entries of .secrets.baseline; exit 1 naming each new one

A new finding that is not a secret (a test vector, a documentation example) goes into the
baseline with ``detect-secrets scan --baseline .secrets.baseline`` and is then marked
``"is_secret": false`` by ``detect-secrets audit .secrets.baseline``: un-audited entries and
entries audited as real secrets fail the check. Errors on bad input are one line on stderr
with exit status 2.
"""

from __future__ import annotations

import argparse
import email.parser
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.message import Message
from pathlib import Path

from standalone_check import constraints_file

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ".secrets.baseline"
# uv.lock holds package hashes, releases.json the git tree ids of release points.
NOT_SCANNED = {"uv.lock", "releases.json", BASELINE}
# Generated from scanned sources (the services' OpenAPI examples): tools/api_contract.py.
GENERATED = re.compile(
    r"^(api/|clients/postman/|clients/package-lock\.json$|clients/typescript/[^/]+/src/schema\.ts$)"
)
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


class UsageError(Exception):
    """The command cannot run as asked; the message says why."""


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def export_lock(dest: Path) -> None:
    """The locked third-party packages as a pinned requirements file (no workspace members)."""
    constraints_file(dest.parent).replace(dest)


# --- audit -----------------------------------------------------------------------------------


def audit(requirements: Path | None, osv_url: str | None) -> int:
    if requirements is not None and not requirements.is_file():
        raise UsageError(f"no requirements file {requirements}")
    with tempfile.TemporaryDirectory(prefix="spaps-audit-") as tmp:
        work = Path(tmp)
        if requirements is None:
            requirements = work / "requirements.txt"
            export_lock(requirements)
        report = work / "audit.json"
        cmd = [
            *(sys.executable, "-m", "pip_audit", "-r", str(requirements)),
            *("--no-deps", "--disable-pip", "--progress-spinner", "off", "--desc", "on"),
            *("--aliases", "on", "--format", "json", "--output", str(report)),
        ]
        if osv_url:
            cmd += ["--vulnerability-service", "osv", "--osv-url", osv_url]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if not report.is_file():
            print(result.stderr.strip() or result.stdout.strip(), file=sys.stderr)
            print(f"error: pip-audit failed with exit status {result.returncode}", file=sys.stderr)
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]
    findings = [(dep, vuln) for dep in dependencies for vuln in dep.get("vulns", [])]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    for dep, vuln in findings:
        ids = ", ".join([vuln["id"], *vuln.get("aliases", [])])
        fixed = ", ".join(vuln["fix_versions"]) or "no fixed release"
        summary = " ".join(str(vuln.get("description", "")).split())[:160]
        print(f"{dep['name']} {dep['version']}: {ids} (fixed in: {fixed}) {summary}")
    for dep in skipped:
        print(f"{dep['name']}: not audited: {dep['skip_reason']}")
    counts = f"{len(findings)} known vulnerabilities, {len(skipped)} not audited"
    print(f"audited {len(dependencies) - len(skipped)} of {len(dependencies)} packages: {counts}")
    return 1 if findings or skipped else 0


# --- sbom ------------------------------------------------------------------------------------


def wheel_metadata(wheel: Path) -> Message:
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise UsageError(f"{wheel} has no single .dist-info/METADATA")
            text = archive.read(names[0]).decode()
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{wheel} is not a readable wheel: {exc}") from exc
    return email.parser.Parser().parsestr(text)


def pyproject_of(meta: Message) -> str:
    """A PEP 621 ``[project]`` table describing the wheel, for the SBOM's root component."""

    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    required: list[str] = []
    optional: dict[str, list[str]] = {extra: [] for extra in meta.get_all("Provides-Extra", [])}
    for spec in meta.get_all("Requires-Dist", []):
        requirement, _, marker = spec.partition(";")
        extra = _EXTRA.search(marker)
        if extra is None:
            required.append(spec.strip())
        else:  # a marker that names only the extra is dropped, any other is kept
            bare = _EXTRA.fullmatch(marker.strip())
            optional.setdefault(extra.group(1), []).append((requirement if bare else spec).strip())
    lines = [
        "[project]",
        f"name = {json.dumps(meta['Name'])}",
        f"version = {json.dumps(meta['Version'])}",
        f"description = {json.dumps(meta.get('Summary') or '')}",
        f"dependencies = {toml_list(required)}",
    ]
    if meta.get("License-Expression"):
        lines.append(f"license = {json.dumps(meta['License-Expression'])}")
    lines.append("[project.optional-dependencies]")
    lines += [f"{json.dumps(extra)} = {toml_list(reqs)}" for extra, reqs in optional.items()]
    lines.append("[project.urls]")
    for url in meta.get_all("Project-URL", []):
        label, _, href = url.partition(",")
        lines.append(f"{json.dumps(label.strip())} = {json.dumps(href.strip())}")
    return "\n".join(lines) + "\n"


def sbom(wheel: Path, out: Path, find_links: list[Path]) -> int:
    if wheel.suffix != ".whl" or not wheel.is_file():
        raise UsageError(f"{wheel} is not a wheel file")
    for folder in find_links:
        if not folder.is_dir():
            raise UsageError(f"--find-links {folder} is not a directory")
    meta = wheel_metadata(wheel)
    name, version = meta["Name"], meta["Version"]
    extras = meta.get_all("Provides-Extra", [])
    with tempfile.TemporaryDirectory(prefix="spaps-sbom-") as tmp:
        work = Path(tmp)
        constraints = work / "constraints.txt"
        export_lock(constraints)
        venv = work / "venv"
        python = venv / "bin" / "python"
        run([*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)])
        extra = f"[{','.join(extras)}]" if extras else ""
        install = [*uv(), "pip", "install", "--quiet", "--python", str(python)]
        install += ["-c", str(constraints)]
        for folder in find_links:
            install += ["--find-links", str(folder.resolve())]
        run([*install, f"{name}{extra} @ {wheel.resolve().as_uri()}"])
        pyproject = work / "pyproject.toml"
        pyproject.write_text(pyproject_of(meta))
        out.parent.mkdir(parents=True, exist_ok=True)
        run(
            [
                *(sys.executable, "-m", "cyclonedx_py", "environment", str(python)),
                *("--pyproject", str(pyproject), "--mc-type", "library"),
                *("--output-format", "JSON", "--output-reproducible", "-o", str(out)),
            ]
        )
    bom = json.loads(out.read_text())
    component = bom["metadata"]["component"]
    component.setdefault("purl", f"pkg:pypi/{re.sub(r'[-_.]+', '-', name).lower()}@{version}")
    out.write_text(json.dumps(bom, indent=2) + "\n")
    listed = len(bom.get("components", []))
    print(f"{out}: {name} {version}, {listed} components")
    return 0


# --- secrets ---------------------------------------------------------------------------------


def secrets(root: Path) -> int:
    baseline = root / BASELINE
    if not baseline.is_file():
        raise UsageError(f"no {BASELINE} in {root}: create it with detect-secrets scan, audit it")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=False
    )
    if tracked.returncode != 0:
        raise UsageError(f"{root} is not a git work tree: {tracked.stderr.strip()}")
    files = [
        name
        for name in tracked.stdout.split("\0")
        if name
        and name not in NOT_SCANNED
        and not GENERATED.match(name)
        and (root / name).is_file()
    ]
    try:
        recorded = json.loads(baseline.read_text())["results"]
    except (ValueError, KeyError) as exc:
        raise UsageError(f"{baseline} is not a detect-secrets baseline: {exc!r}") from exc
    unaudited = [
        f"{file}:{entry['line_number']} {entry['type']}"
        for file, entries in recorded.items()
        for entry in entries
        if entry.get("is_secret") is not False
    ]
    with tempfile.TemporaryDirectory(prefix="spaps-secrets-") as tmp:
        # The hook rewrites a baseline whose line numbers moved: it works on a copy.
        copy = Path(tmp) / BASELINE
        shutil.copyfile(baseline, copy)
        hook = [sys.executable, "-m", "detect_secrets.pre_commit_hook", "--baseline", str(copy)]
        result = subprocess.run(
            [*hook, *files],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode not in (0, 3):
        print(result.stdout.strip())
        print(result.stderr.strip(), file=sys.stderr)
        print(f"new potential secrets in {root} (not in {BASELINE})")
        return 1
    if unaudited:
        for line in unaudited:
            print(f"{line}: not audited as a false positive in {BASELINE}")
        return 1
    note = "; its line numbers are stale" if result.returncode == 3 else ""
    print(f"scanned {len(files)} files: no secret beyond the audited {BASELINE}{note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_audit = sub.add_parser("audit", help="known vulnerabilities of the locked packages")
    p_audit.add_argument("--requirements", type=Path, help="pinned requirements (default: lock)")
    p_audit.add_argument("--osv-url", help="query this OSV-compatible API instead of PyPI")
    p_sbom = sub.add_parser("sbom", help="CycloneDX SBOM of one wheel")
    p_sbom.add_argument("wheel", type=Path)
    p_sbom.add_argument("--out", type=Path, required=True)
    p_sbom.add_argument("--find-links", type=Path, action="append", default=[])
    p_secrets = sub.add_parser("secrets", help="no new secret in the tracked files")
    p_secrets.add_argument("--root", type=Path, default=ROOT, help="git work tree to scan")
    args = parser.parse_args(argv)
    try:
        if args.command == "audit":
            return audit(args.requirements, args.osv_url)
        if args.command == "sbom":
            return sbom(args.wheel, args.out, args.find_links)
        return secrets(args.root.resolve())
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"error: {' '.join(map(str, exc.cmd))} failed with exit status {exc.returncode}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
