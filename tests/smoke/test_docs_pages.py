"""Each service's ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) in a real headless
Chromium that can reach no host but the service: every operation is listed, the browser
logs no error, no CSP violation and no failed request, and the light/dark toggle works.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); without
them the tests skip with one loud line at the end of the run, or fail under
``SPAPS_REQUIRE_SERVICES``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import PageReport, chromium, load
from selenium import webdriver
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.slow

# Both UIs give each operation an element whose id ends with its operationId:
# Swagger UI ``operations-<tag>-<operationId>``, ReDoc ``tag/<tag>/operation/<operationId>``.
LISTED = {
    "docs": ("document.querySelectorAll('.opblock')", "-"),
    "redoc": ("document.querySelectorAll('[id*=\"operation/\"]')", "operation/"),
}


@pytest.fixture
def driver() -> Iterator[webdriver.Chrome]:
    """The browser (checked first: without Chromium nothing else starts)."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def stack(driver: webdriver.Chrome, demo: Any, tmp_path: Path) -> Iterator[Any]:
    """Both services as real processes, with their default settings (docs enabled); the
    databases only migrated, concurrently (the pages need no data)."""
    services = demo.Stack(tmp_path / "stack")
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda cli: services.run(cli, "migrate"), ["ingredient.cli", "htma.cli"]))
        services.start(("ingredient", "htma"))
        yield services
    finally:
        services.stop()


def operation_ids(base: str) -> list[str]:
    document = httpx.get(f"{base}/openapi.json", timeout=30).raise_for_status().json()
    return sorted(
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    )


def unlisted_script(page: str, ids: list[str]) -> str:
    """JavaScript returning the operationIds the page does not list (yet)."""
    elements, separator = LISTED[page]
    return (
        f"const seen = [...{elements}].map(e => e.id);"
        f"const suffix = {json.dumps(separator)};"
        f"return {json.dumps(ids)}.filter(i => !seen.some(s => s.endsWith(suffix + i)));"
    )


def check_page(driver: webdriver.Chrome, base: str, page: str, ids: list[str]) -> list[str]:
    """What is wrong with ``base/page`` in the browser (nothing: an empty list)."""
    unlisted = unlisted_script(page, ids)
    rendered = f"return (function () {{ {unlisted} }})().length === 0"
    report: PageReport = load(driver, f"{base}/{page}", ready_script=rendered)
    where = f"{base}/{page}"
    problems = [f"{where}: browser error {error}" for error in report.errors]
    problems += [f"{where}: CSP violation {v}" for v in report.violations]
    problems += [f"{where}: failed request {r}" for r in report.failed_requests(base)]
    if not report.rendered:
        problems.append(f"{where}: operations not listed: {driver.execute_script(unlisted)}")
    if not report.resources:
        problems.append(f"{where}: loaded no asset, so it cannot have rendered from its own")
    toggle = driver.find_element(By.ID, "spaps-theme-toggle")
    theme = driver.execute_script("return document.documentElement.dataset.theme")
    toggle.click()
    flipped = driver.execute_script("return document.documentElement.dataset.theme")
    pressed = toggle.get_attribute("aria-pressed")
    if {theme, flipped} != {"light", "dark"} or pressed != str(flipped == "dark").lower():
        problems.append(f"{where}: the toggle went from {theme} to {flipped} ({pressed=})")
    return problems


def test_docs_pages_list_every_operation_offline_under_the_csp(
    driver: webdriver.Chrome, stack: Any
) -> None:
    """One browser and one stack for the four pages: each would cost a start of both."""
    problems: list[str] = []
    for service in ("htma", "ingredient"):
        base = getattr(stack, f"{service}_url")
        ids = operation_ids(base)
        assert ids, f"{service} documents no operation"
        for page in ("docs", "redoc"):
            problems += check_page(driver, base, page, ids)
    assert problems == []
