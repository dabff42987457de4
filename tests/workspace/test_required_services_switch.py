"""With SPAPS_REQUIRE_SERVICES=1 (set by `make test` and CI) no test may skip, whatever
skips it: the root conftest turns every skip into a failure unless its reason says the case
does not apply (``not applicable: ...``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SKIPPING = """
import pytest

def test_missing_server():
    pytest.skip("Redis at 127.0.0.1:6379 is unreachable")

@pytest.mark.skipif(True, reason="redis-server is not installed")
def test_missing_binary():
    pass

def test_not_applicable():
    pytest.skip("not applicable: needs Linux namespaces")

def test_missing_rabbitmq():
    pytest.skip("RabbitMQ at 127.0.0.1:5672 is unreachable")

def test_passes():
    assert True
"""


def run(tmp_path: Path, required: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "SPAPS_REQUIRE_SERVICES"}
    if required is not None:
        env["SPAPS_REQUIRE_SERVICES"] = required
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(tmp_path / "test_skipping.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_skips_fail_when_services_are_required(tmp_path: Path) -> None:
    result = run(tmp_path, required="1")
    assert result.returncode == 1, result.stdout
    assert "FAILED test_skipping.py::test_missing_server" in result.stdout
    assert "FAILED test_skipping.py::test_missing_rabbitmq" in result.stdout
    assert "ERROR test_skipping.py::test_missing_binary" in result.stdout
    assert (
        "SKIPPED [1] test_skipping.py:12: not applicable: needs Linux namespaces" in result.stdout
    )
    assert "2 failed, 1 passed, 1 skipped, 1 error" in result.stdout


def test_a_listed_switch_lets_only_the_unlisted_servers_skip(tmp_path: Path) -> None:
    """``postgres,redis``: a machine without RabbitMQ; a missing Redis or binary still fails."""
    result = run(tmp_path, required="postgres,redis")
    assert result.returncode == 1, result.stdout
    assert "FAILED test_skipping.py::test_missing_server" in result.stdout
    assert "ERROR test_skipping.py::test_missing_binary" in result.stdout
    assert "RabbitMQ at 127.0.0.1:5672 is unreachable" in result.stdout
    assert "1 failed, 1 passed, 2 skipped, 1 error" in result.stdout


def test_an_unknown_server_in_the_switch_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, required="postgres,mysql")
    assert result.returncode != 0
    assert "SPAPS_REQUIRE_SERVICES='postgres,mysql'" in result.stdout + result.stderr


def test_skips_stay_skips_otherwise(tmp_path: Path) -> None:
    result = run(tmp_path, required=None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 4 skipped" in result.stdout


NO_CHROMIUM = """
import sys

sys.path.insert(0, {smoke!r})
from browser import chromium_binaries


def test_docs_pages(monkeypatch):
    monkeypatch.setenv("PATH", {empty!r})  # no chromium, no chromedriver
    chromium_binaries()
"""


def run_without_chromium(tmp_path: Path, required: str | None) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    code = NO_CHROMIUM.format(smoke=str(ROOT / "tests" / "smoke"), empty=str(empty))
    (tmp_path / "test_browser.py").write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "SPAPS_REQUIRE_SERVICES"}
    if required is not None:
        env["SPAPS_REQUIRE_SERVICES"] = required
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-rA", "-p", "no:cacheprovider",
         "-p", "no:randomly", str(tmp_path / "test_browser.py")],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_a_missing_chromium_skips_with_one_loud_line(tmp_path: Path) -> None:
    result = run_without_chromium(tmp_path, required=None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("BROWSER: ")]
    assert lines == [
        "BROWSER: 1 tests did not run: Chromium is not installed (apt-get install chromium "
        "chromium-driver); the docs pages were not loaded in a browser"
    ]


def test_a_missing_chromium_fails_when_services_are_required(tmp_path: Path) -> None:
    result = run_without_chromium(tmp_path, required="1")
    assert result.returncode == 1, result.stdout
    assert "FAILED test_browser.py::test_docs_pages" in result.stdout
    assert "chromium, chromedriver not on PATH" in result.stdout
    assert "BROWSER: " not in result.stdout
