"""create_celery_app defaults, settings and schedule validation, the job decorator, metrics."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
from celery.schedules import crontab
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    JobsCelery,
    JobsSettings,
    Schedule,
    ScheduleError,
    backoff_delay,
    create_celery_app,
    parse_schedules,
)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def eager_app(tmp_path: Path, registry: CollectorRegistry) -> JobsCelery:
    """A real app whose tasks run in-process (``task_always_eager``) through Celery's tracer."""
    return create_celery_app(
        JobsSettings(
            dead_letter_url=f"sqlite:///{tmp_path / 'dead.db'}",
            extra={"task_always_eager": True},
        ),
        registry=registry,
    )


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_safe_defaults() -> None:
    app = create_celery_app(registry=CollectorRegistry())
    conf = app.conf
    assert conf.broker_url == "sqla+sqlite:///broker.db"
    assert conf.result_backend == "db+sqlite:///results.db"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (300.0, 360.0)
    assert conf.broker_connection_retry_on_startup is True
    assert conf.task_publish_retry_policy["max_retries"] == 3
    # The embedded broker's transport hands its options to create_engine: keep it clean.
    assert dict(conf.broker_transport_options) == {}


def test_redis_transport_options() -> None:
    app = create_celery_app(
        JobsSettings(
            broker_url="redis://127.0.0.1:6379/0",
            result_backend="redis://127.0.0.1:6379/0",
            key_prefix="svc:",
            time_limit=100,
            soft_time_limit=90,
            visibility_timeout=120,
            transport_options={"socket_timeout": 5},
        ),
        registry=CollectorRegistry(),
    )
    assert dict(app.conf.broker_transport_options) == {
        "visibility_timeout": 120,
        "global_keyprefix": "svc:",
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        "socket_timeout": 5,
    }
    assert dict(app.conf.result_backend_transport_options) == {"global_keyprefix": "svc:"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"broker_url": ""}, "broker_url"),
        ({"soft_time_limit": 10, "time_limit": 5}, "soft_time_limit < time_limit"),
        ({"visibility_timeout": 100}, "visibility_timeout must exceed time_limit"),
        ({"publish_retries": -1}, "publish_retries"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JobsSettings(**kwargs)  # type: ignore[arg-type]  # deliberately bad values


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVC_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    monkeypatch.setenv("SVC_DEAD_LETTER_URL", "")
    settings = JobsSettings.from_env("SVC_", default_queue="svc")
    assert settings.broker_url == "amqp://guest:guest@127.0.0.1:5672//"
    assert settings.dead_letter_url is None
    assert settings.default_queue == "svc"


def test_schedules_from_configuration_reach_beat() -> None:
    app = create_celery_app(
        JobsSettings(
            schedules={
                "nightly-report": {"task": "reports.build", "cron": "30 2 * * *", "args": [1]},
                "heartbeat": {"task": "ops.beat", "every": 15, "queue": "ops"},
            }
        ),
        registry=CollectorRegistry(),
    )
    beat = app.conf.beat_schedule
    assert beat["nightly-report"]["task"] == "reports.build"
    assert beat["nightly-report"]["schedule"] == crontab(minute="30", hour="2")
    assert beat["nightly-report"]["args"] == (1,)
    assert beat["heartbeat"]["schedule"] == timedelta(seconds=15)
    assert beat["heartbeat"]["options"] == {"queue": "ops"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"task": "t", "cron": "61 * * * *"}, r"'bad-one': bad cron expression '61 \* \* \* \*'"),
        ({"task": "t", "cron": "* * *"}, "expected 5 fields"),
        ({"task": "t", "cron": "0 0 31 2 *"}, "never occurs"),
        ({"task": "t", "cron": "* * * * *", "every": 5}, "exactly one of"),
        ({"task": "t"}, "exactly one of"),
        ({"task": "", "every": 5}, "'task' must be"),
        ({"task": "t", "every": -1}, "positive number"),
        ({"task": "t", "every": 5, "when": "now"}, "unknown keys"),
    ],
)
def test_bad_schedules_stop_start_up_with_a_clear_error(
    entry: dict[str, object], message: str
) -> None:
    with pytest.raises(ScheduleError, match=message):
        JobsSettings(schedules={"bad-one": entry})


def test_schedule_objects_are_accepted() -> None:
    entry = Schedule(name="s", task="t", every=60)
    assert parse_schedules({"s": entry}) == (entry,)
    assert isinstance(ScheduleError("x"), ValueError)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert [backoff_delay(n, base=1, cap=10, jitter=False) for n in range(6)] == [
        1,
        2,
        4,
        8,
        10,
        10,
    ]
    rng = random.Random(1)
    draws = [backoff_delay(3, base=1, cap=100, jitter=True, rng=rng) for _ in range(200)]
    assert all(0 <= d <= 8 for d in draws)
    assert len({round(d, 3) for d in draws}) > 150  # spread out, not lock-step


def test_job_retries_declared_errors_then_succeeds(
    eager_app: JobsCelery, registry: CollectorRegistry
) -> None:
    calls: list[int] = []

    @eager_app.job(name="x.flaky", retry_on=(ConnectionError,), max_retries=3, backoff=0.01)
    def flaky(n: int) -> int:
        calls.append(n)
        if len(calls) < 3:
            raise ConnectionError("later")
        return n * 2

    assert flaky.apply(args=(21,)).get() == 42
    assert calls == [21, 21, 21]
    assert _sample(registry, "spaps_jobs_tasks_total", task="x.flaky", state="started") == 3
    assert _sample(registry, "spaps_jobs_tasks_total", task="x.flaky", state="retried") == 2
    assert _sample(registry, "spaps_jobs_tasks_total", task="x.flaky", state="succeeded") == 1
    count = _sample(
        registry, "spaps_jobs_task_duration_seconds_count", task="x.flaky", state="succeeded"
    )
    assert count == 1
    assert eager_app.dead_letters is not None
    assert eager_app.dead_letters.list() == []


def test_job_exhausting_retries_is_dead_lettered(
    eager_app: JobsCelery, registry: CollectorRegistry
) -> None:
    @eager_app.job(name="x.down", retry_on=(ConnectionError,), max_retries=2, backoff=0.01)
    def down(order_id: str, *, notify: bool) -> None:
        raise ConnectionError(f"cannot reach billing for {order_id}")

    result = down.apply(args=("o-1",), kwargs={"notify": True})
    assert result.state == "FAILURE"
    store = eager_app.dead_letters
    assert store is not None
    [letter] = store.list()
    assert (letter.task_name, letter.args, letter.kwargs) == ("x.down", ["o-1"], {"notify": True})
    assert letter.attempts == 3
    assert letter.error == "ConnectionError('cannot reach billing for o-1')"
    assert "Traceback" in letter.traceback
    assert _sample(registry, "spaps_jobs_tasks_total", task="x.down", state="failed") == 1
    assert store.get(letter.id) == letter


def test_undeclared_errors_are_not_retried(eager_app: JobsCelery) -> None:
    calls = 0

    @eager_app.job(name="x.bug", retry_on=(ConnectionError,))
    def bug() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("missing")

    assert bug.apply().state == "FAILURE"
    assert calls == 1
    assert eager_app.dead_letters is not None
    assert eager_app.dead_letters.list()[0].attempts == 1


def test_bound_job_gets_the_task(eager_app: JobsCelery) -> None:
    @eager_app.job(name="x.bound", bind=True)
    def bound(task: object) -> str:
        return str(getattr(task, "name", ""))

    assert bound.apply().get() == "x.bound"


def test_eager_task_binds_its_context_and_restores_the_callers(eager_app: JobsCelery) -> None:
    seen: dict[str, object] = {}

    @eager_app.task(name="x.ctx")
    def ctx() -> None:
        seen.update(structlog.contextvars.get_contextvars())

    structlog.contextvars.bind_contextvars(request_id="req-outer")
    result = ctx.apply(headers={"spaps_request_id": "req-inner"})
    assert seen["task_id"] == result.id
    assert seen["task_name"] == "x.ctx"
    assert seen["request_id"] == "req-inner"
    assert structlog.contextvars.get_contextvars() == {"request_id": "req-outer"}


def test_dead_letters_can_be_disabled(registry: CollectorRegistry) -> None:
    app = create_celery_app(
        JobsSettings(dead_letter_url=None, extra={"task_always_eager": True}), registry=registry
    )

    @app.job(name="x.fails")
    def fails() -> None:
        raise ValueError("x")

    assert fails.apply().state == "FAILURE"
    assert app.dead_letters is None


def test_job_options_are_validated(eager_app: JobsCelery) -> None:
    with pytest.raises(TypeError, match="retry_on"):
        eager_app.job(retry_on=[ValueError])(lambda: None)  # type: ignore[arg-type]  # a list
    with pytest.raises(ValueError, match="max_retries"):
        eager_app.job(max_retries=-1)(lambda: None)
    with pytest.raises(ValueError, match="backoff"):
        eager_app.job(backoff=0)(lambda: None)
    with pytest.raises(TypeError, match="JobsSettings"):
        create_celery_app({"broker_url": "x"})  # type: ignore[arg-type]  # wrong type on purpose
