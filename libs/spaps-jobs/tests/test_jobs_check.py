"""``check_configuration`` and ``spaps-jobs check``: promises a broker cannot keep."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from spaps_jobs import check_configuration
from spaps_jobs._cli import main

TESTS_DIR = Path(__file__).parent


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    return importlib.import_module("spaps_jobs_check_apps")


def codes(app: object, relay: object = None) -> list[tuple[str, str]]:
    return [(f.severity, f.code) for f in check_configuration(app, relay=relay)]


def test_redis_late_acks_are_flagged_as_a_promise_redis_cannot_keep(apps: ModuleType) -> None:
    [finding] = check_configuration(apps.redis_app)
    assert (finding.severity, finding.code) == ("warning", "jobs.redis_can_lose_tasks")
    for reference in ("celery/celery#4354", "#7950", "celery/kombu#305", "#1836", "outbox"):
        assert reference in finding.message


def test_rabbitmq_defaults_have_publisher_confirms(apps: ModuleType) -> None:
    assert apps.amqp_app.conf.broker_transport_options["confirm_publish"] is True
    assert codes(apps.amqp_app) == [("info", "jobs.classic_queues")]
    assert codes(apps.amqp_quorum_app) == []
    assert codes(apps.amqp_unconfirmed_app) == [
        ("warning", "jobs.no_publisher_confirms"),
        ("warning", "jobs.transient_messages"),
    ]


def test_acks_and_brokers_that_keep_nothing(apps: ModuleType) -> None:
    assert codes(apps.early_ack_app) == [
        ("warning", "jobs.early_ack"),
        ("warning", "jobs.memory_broker"),
    ]
    assert codes(apps.no_reject_app) == [
        ("warning", "jobs.ack_on_worker_lost"),
        ("info", "jobs.embedded_broker"),
    ]


def test_relay_without_redelivery_is_flagged(apps: ModuleType) -> None:
    assert ("warning", "jobs.outbox_without_redelivery") in codes(
        apps.amqp_quorum_app, apps.plain_relay()
    )
    assert codes(apps.amqp_quorum_app, apps.acknowledged_relay()) == []
    assert codes(apps.amqp_quorum_app, apps.acknowledged_relay_without_dead_letters()) == [
        ("info", "jobs.redelivery_without_dead_letters")
    ]


def test_cli_exit_status_and_ignore(apps: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--app", "spaps_jobs_check_apps:redis_app"]) == 1
    out = capsys.readouterr().out
    assert "warning: jobs.redis_can_lose_tasks: " in out
    assert out.rstrip().endswith("1 warning(s), 0 note(s)")
    assert (
        main(
            [
                "check",
                "--app",
                "spaps_jobs_check_apps:redis_app",
                "--relay",
                "spaps_jobs_check_apps:acknowledged_relay",
                "--ignore",
                "jobs.redis_can_lose_tasks",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.rstrip().endswith("0 warning(s), 0 note(s)")
    assert main(["check", "--app", "spaps_jobs_check_apps:amqp_app"]) == 0
    assert "info: jobs.classic_queues" in capsys.readouterr().out


def test_console_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "spaps_jobs",
            "check",
            "--app",
            "spaps_jobs_check_apps:redis_app",
            "--relay",
            "spaps_jobs_check_apps:plain_relay",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(TESTS_DIR), "PATH": ""},
    )
    assert result.returncode == 1, result.stderr
    assert "warning: jobs.outbox_without_redelivery" in result.stdout
    assert "warning: jobs.redis_can_lose_tasks" in result.stdout
