"""The Grafana dashboard and the Prometheus rules query metrics the services really expose:
every metric and label their PromQL names is in a scrape of ``/metrics`` from each
service's app (built by its own ``create_app``, after some requests)."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from pathlib import Path
from typing import Any

import deploykit as kit
import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = kit.DEPLOY / "grafana" / "spaps-red.json"
ALERTS = kit.DEPLOY / "prometheus" / "alerts.yml"
SCRAPE = kit.DEPLOY / "prometheus" / "scrape-config.yml"
# Labels Prometheus attaches to every scraped series, and its own per-target series.
TARGET_LABELS = {"job", "instance"}
PROMETHEUS_SERIES = {"up"}
FUNCTIONS_AND_KEYWORDS = {
    "sum", "avg", "min", "max", "count", "rate", "irate", "increase", "histogram_quantile",
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "label_values", "humanizePercentage",
}  # fmt: skip


def promql_names(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, label names) an expression uses."""
    labels: set[str] = set()
    for grouping in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        labels |= {name.strip() for name in grouping.split(",") if name.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        labels |= set(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", matchers))
    stripped = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
    stripped = re.sub(r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]', " ", stripped)
    identifiers = re.findall(r"(?<![\w.$:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()", stripped)
    metrics = {i for i in identifiers if i not in FUNCTIONS_AND_KEYWORDS}
    return metrics, labels


def test_the_promql_reader_finds_metrics_and_labels() -> None:
    metrics, labels = promql_names(
        'histogram_quantile(0.95, sum by (job, le) (rate(x_bucket{job=~"$job", a!="b"}[5m])))'
        " / on (job) up > 1"
    )
    assert metrics == {"x_bucket", "up"}
    assert labels == {"job", "le", "a"}


async def scrape(service: str, folder: Path) -> str:
    """``/metrics`` of ``service``'s app after a few requests (probes, a 404, the schema)."""
    options: dict[str, Any] = {"database_url": f"sqlite:///{folder / service}.db"}
    if service == "htma":
        options["signing_keys_path"] = folder / "htma-signing-keys.json"
    settings = kit.load_tool("config_reference").settings_class(service)(**options)
    app = importlib.import_module(f"{service}.app").create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/health/live", "/health/ready", "/no-such-route", "/openapi.json"):
                await client.get(path)
            return (await client.get("/metrics")).text


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Sample name -> its label names, over both services' ``/metrics``."""
    folder = tmp_path_factory.mktemp("metrics")
    found: dict[str, set[str]] = {}
    for service in kit.SERVICES:
        for family in text_string_to_metric_families(asyncio.run(scrape(service, folder))):
            for sample in family.samples:
                found.setdefault(sample.name, set()).update(sample.labels)
    return found


def slugs(markdown: str) -> set[str]:
    """GitHub's anchors of a document's headings."""
    headings = re.findall(r"^#{1,6}\s+(.*?)\s*$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def expressions_of_dashboard() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    return [target["expr"] for panel in panels for target in panel["targets"]]


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def check_names(expr: str, exposed: dict[str, set[str]]) -> None:
    metrics, labels = promql_names(expr)
    assert metrics, f"no metric in {expr!r}"
    known_labels = set(TARGET_LABELS)
    for metric in metrics:
        if metric in PROMETHEUS_SERIES:
            continue
        assert metric in exposed, f"{metric} is not exposed by the services: {expr!r}"
        known_labels |= exposed[metric]
    assert labels <= known_labels, f"unknown labels {labels - known_labels} in {expr!r}"


def test_the_services_expose_the_red_metrics(exposed: dict[str, set[str]]) -> None:
    assert exposed["http_requests_total"] == {"method", "route", "status"}
    assert "le" in exposed["http_request_duration_seconds_bucket"]
    assert "http_requests_in_progress" in exposed


def test_dashboard_panels_query_real_metrics(exposed: dict[str, set[str]]) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "spaps-red"
    titles = {p["title"] for p in dashboard["panels"] if p["type"] == "row"}
    assert titles == {"Rate", "Errors", "Duration"}
    for expr in expressions_of_dashboard():
        check_names(expr, exposed)
    [variable] = [v for v in dashboard["templating"]["list"] if v["name"] == "job"]
    check_names(variable["definition"].removeprefix("label_values(").split(",")[0], exposed)


def test_dashboard_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        grid = panel["gridPos"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, panel["title"]
        assert grid["x"] + grid["w"] <= 24
        taken |= cells


def test_alert_rules_are_well_formed_and_query_real_metrics(
    exposed: dict[str, set[str]],
) -> None:
    found = rules()
    names = [rule["alert"] for rule in found]
    assert len(names) == len(set(names)), "alert names are unique"
    anchors = slugs(kit.load_tool("config_reference").DOCUMENT.read_text())
    for rule in found:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in anchors, f"docs/operations.md has no heading #{anchor}"
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        check_names(rule["expr"], exposed)


def test_scrape_jobs_are_named_after_the_services() -> None:
    document = yaml.safe_load(SCRAPE.read_text())
    jobs = [job["job_name"] for job in document["scrape_configs"]]
    assert jobs == list(kit.SERVICES)
    # htma's job keeps its API pods and its workers (the job and outbox metrics).
    [keep] = [r for r in document["scrape_configs"][0]["relabel_configs"] if "regex" in r][:1]
    assert re.fullmatch(keep["regex"], "htma;api")
    assert re.fullmatch(keep["regex"], "htma;worker")
    assert not re.fullmatch(keep["regex"], "htma;beat")
    for rule in rules():
        for service in kit.SERVICES:
            assert service in rule["expr"], f"{rule['alert']} watches {service}"
