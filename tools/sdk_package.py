"""The TypeScript SDK packages carry their services' versions; release tags name both.

``clients/typescript/<service>/package.json`` (``@spaps/<service>-client``) has the version
of ``services/<service>/pyproject.toml``: the SDK of htma 0.4.0 is ``@spaps/htma-client``
0.4.0, published by ``.github/workflows/publish-sdk.yml`` when the tag ``htma-v0.4.0`` is
pushed. ``api_contract.py sdk`` writes the version and ``sdk --check`` fails on drift::

    sdk_package.py verify-tag TAG   # TAG is <service>-v<version> of the checked-out files;
                                    # prints "<service> <version> <package folder>"
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("htma", "ingredient")


def service_version(service: str) -> str:
    """The version in ``services/<service>/pyproject.toml``."""
    text = (ROOT / "services" / service / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise ValueError(f"services/{service}/pyproject.toml has no version")
    return match.group(1)


def package_folder(service: str) -> Path:
    return ROOT / "clients" / "typescript" / service


def package_json(service: str, version: str) -> str:
    """The SDK's ``package.json`` with ``version``, formatted as npm writes it."""
    data = json.loads((package_folder(service) / "package.json").read_text())
    data["version"] = version
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def verify_tag(tag: str) -> tuple[str, str]:
    """The (service, version) a release tag names, if the checked-out files agree with it."""
    match = re.fullmatch(r"(?P<service>[a-z]+)-v(?P<version>\d+\.\d+\.\d+)", tag)
    if match is None or match["service"] not in SERVICES:
        raise ValueError(f"{tag!r} is not a service release tag (<service>-v<x.y.z>)")
    service, version = match["service"], match["version"]
    if service_version(service) != version:
        raise ValueError(f"{tag}: services/{service} is at {service_version(service)}")
    package = json.loads((package_folder(service) / "package.json").read_text())
    if package["version"] != version:
        raise ValueError(
            f"{tag}: {package['name']} is at {package['version']}: run `api_contract.py sdk`"
        )
    return service, version


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "verify-tag":
        print("usage: sdk_package.py verify-tag <service>-v<version>", file=sys.stderr)
        return 2
    try:
        service, version = verify_tag(args[1])
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(service, version, package_folder(service).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
