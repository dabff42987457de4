"""A real headless Chromium for the docs pages' tests (Debian's ``chromium`` and
``chromium-driver``), driven by selenium.

Without them the tests skip, and the run ends with one loud line saying they did not
run (the root conftest counts them); ``SPAPS_REQUIRE_SERVICES`` turns the skip into
a failure that names the missing binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

SWITCH = "SPAPS_REQUIRE_SERVICES"
BINARIES = ("chromium", "chromedriver")
#: What a skip says; the run's summary counts the skips that say it.
MISSING = "Chromium is not installed"
DEADLINE = 20.0  # a page on a loaded machine; never a measure of speed

# Recorded before any page script runs, and outside the page's CSP.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + e.blockedURI);
});
"""


def chromium_binaries() -> tuple[str, str]:
    """The paths of ``chromium`` and ``chromedriver``; skip without them, or fail under
    ``SPAPS_REQUIRE_SERVICES``, naming the missing binary."""
    found = {name: shutil.which(name) for name in BINARIES}
    absent = [name for name, path in found.items() if path is None]
    if absent:
        missing = (
            f"{MISSING} ({', '.join(absent)} not on PATH: apt-get install chromium "
            "chromium-driver): the docs pages' browser tests did not run"
        )
        if os.environ.get(SWITCH):
            pytest.fail(f"{missing} ({SWITCH} is set: nothing may skip)")
        pytest.skip(missing)
    return found["chromium"] or "", found["chromedriver"] or ""


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless Chromium that resolves no host but 127.0.0.1: a page that needs the
    internet fails to load something, which the test sees."""
    binary, driver_path = chromium_binaries()
    options = Options()
    options.binary_location = binary
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-extensions", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(DEADLINE)
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS}
        )
        yield driver
    finally:
        driver.quit()


@dataclass
class PageReport:
    """What loading a page showed: its console errors, CSP violations and resources."""

    rendered: bool = False
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)

    def failed_requests(self, origin: str) -> list[str]:
        """Resources from another origin, or answered with anything but 200."""
        return [
            f"{entry['name']} -> {entry['status']}"
            for entry in self.resources
            if not entry["name"].startswith(origin) or entry["status"] not in {200, 304}
        ]


def load(driver: webdriver.Chrome, url: str, *, ready_script: str) -> PageReport:
    """Open ``url`` and wait until ``ready_script`` (JavaScript returning a truthy value
    once the page has rendered) holds, or ``DEADLINE`` passes; report what the browser
    saw meanwhile (``rendered``: whether the script held)."""
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(url)
    report = PageReport()
    try:
        WebDriverWait(driver, DEADLINE, poll_frequency=0.1).until(
            lambda d: d.execute_script(ready_script)
        )
        report.rendered = True
    except TimeoutException:
        pass  # the test reports what is missing, with the errors below
    report.errors = [
        entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
    ]
    report.violations = list(driver.execute_script("return window.__cspViolations || []"))
    report.resources = list(
        driver.execute_script(
            "return performance.getEntriesByType('resource')"
            ".map(e => ({name: e.name, status: e.responseStatus}))"
        )
    )
    return report
