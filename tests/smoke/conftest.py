"""Fixtures of the cross-service smoke tests: real processes on free ports.

The process management is ``tools/demo.py``'s (:class:`Stack`, :class:`WebhookSink`),
loaded by path so the demo and these tests drive the services the same way.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # npm_clients, beside this file

ROOT = Path(__file__).resolve().parents[2]


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("spaps_demo", ROOT / "tools" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("spaps_demo", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def demo() -> ModuleType:
    """``tools/demo.py`` as a module."""
    return _load_demo()


@pytest.fixture
def make_stack(demo: ModuleType, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Factory: a prepared (migrated, seeded) but not started stack; always stopped."""
    stacks: list[Any] = []

    def factory(**env: str) -> Any:
        stack = demo.Stack(tmp_path / f"stack{len(stacks)}", env=env)
        stacks.append(stack)
        stack.prepare()
        return stack

    yield factory
    for stack in stacks:
        stack.stop()


@pytest.fixture
def sink(demo: ModuleType) -> Iterator[Any]:
    """A verifying webhook receiver on a free port."""
    with demo.WebhookSink() as receiver:
        yield receiver


@pytest.fixture
def second_postgres_url(postgres_url: str, unique_name: str) -> Iterator[str]:
    """Another fresh database on the same server (each service has its own)."""
    name = unique_name + "_b"
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    _psql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(postgres_url)._replace(path="/" + name).geturl()
    finally:
        _psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psql(dsn: str, sql: str) -> None:
    subprocess.run(
        ["psql", dsn, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
