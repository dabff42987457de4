"""Fixtures of the deployment kit's tests (``deploy/``, ``tools/ops/``, docs/operations.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import deploykit


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Factory: the virtual environment an image holds, built by ``deploy/build-venv.sh``
    (the images' build stage) from the workspace and the uv cache, once per module."""
    built: dict[str, Path] = {}

    def build(service: str) -> Path:
        if service not in built:
            venv = tmp_path_factory.mktemp(f"{service}-image") / "venv"
            env = {**os.environ, "UV_OFFLINE": "1", "PYTHON": sys.executable}
            env.pop("VIRTUAL_ENV", None)
            result = subprocess.run(
                ["sh", "deploy/build-venv.sh", service, str(venv)],
                cwd=deploykit.ROOT, env=env, capture_output=True, text=True, check=False,
                timeout=deploykit.HANG * 5,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            built[service] = venv
        return built[service]

    return build
