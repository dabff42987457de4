"""The "Quickstart with curl" section of each service's README, run as written.

Every fenced block of the section must be ``sh`` or ``bash`` (so none is left out), and the
blocks run in order in one ``bash`` with ``set -euo pipefail``, ``BASE`` naming the service
served the way ``<service> serve`` serves it (``tools/demo.py``'s :class:`Stack`, embedded
defaults, no worker), in the folder it runs in. A marker printed between blocks splits the
output, so each block's answers are checked on their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Quickstart with curl"
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
MARKER = "::quickstart block::"


def quickstart(service: str) -> list[str]:
    """The shell blocks of the service's quickstart section; fails on any other fence."""
    text = (ROOT / "services" / service / "README.md").read_text()
    assert text.count(HEADING + "\n") == 1, f"{service}: no single {HEADING!r} section"
    section = text.split(HEADING + "\n", 1)[1].split("\n## ", 1)[0]
    fences = list(FENCE.finditer(section))
    assert fences, f"{service}: the quickstart has no code block"
    infos = [fence["info"].strip() for fence in fences]
    assert all(info in {"sh", "bash"} for info in infos), f"{service}: not all shell: {infos}"
    assert section.count("```") == 2 * len(fences)  # no fence the pattern missed
    return [fence["body"] for fence in fences]


def run_quickstart(service: str, stack: Any, base: str) -> list[str]:
    """Run the blocks; return each block's standard output."""
    script = "set -euo pipefail\n" + "".join(
        f"{block}\nprintf '\\n%s\\n' '{MARKER}'\n" for block in quickstart(service)
    )
    env = stack.environment()
    env["BASE"] = base
    # The service's CLI as installed beside this interpreter, as a newcomer's shell has it.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(
        ["bash", "-c", script], cwd=stack.workdir, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = result.stdout.split(f"\n{MARKER}\n")
    assert outputs[-1] == "", outputs[-1]  # every block ran to its end
    return [output.strip() for output in outputs[:-1]]


def answer(output: str) -> tuple[Any, int]:
    """The JSON body and the status of ``curl -w '\\nHTTP %{http_code}\\n'``."""
    body, status = output.rsplit("\n", 1)
    assert status.startswith("HTTP "), output
    return json.loads(body), int(status.removeprefix("HTTP "))


def test_htma_quickstart(make_stack: Any) -> None:
    stack = make_stack()
    stack.start(("ingredient", "htma"))
    signup, users, panels, result = run_quickstart("htma", stack, stack.htma_url)

    created = json.loads(signup)
    assert created["user"]["role"] == "lab_admin"
    assert created["tokens"]["access_token"]
    practitioner = json.loads(users)
    assert practitioner["role"] == "practitioner"

    first, listing = panels.split("\n", 1)
    panel = first.removeprefix("panel ")
    [listed] = json.loads(listing)
    assert listed["id"] == panel
    assert listed["patient_id"]

    # No worker runs: the documented problem answer, not a result.
    problem, status = answer(result)
    assert status == 409
    assert problem["code"] == "htma.result_pending"
    assert problem["status"] == 409


def test_ingredient_quickstart(make_stack: Any) -> None:
    stack = make_stack()
    stack.start(("ingredient",))
    search, one, error = run_quickstart("ingredient", stack, stack.ingredient_url)

    found = json.loads(search)
    assert found["items"]
    assert "spinach" in found["items"][0]["name"].lower()

    name, richest = one.split("\n", 1)
    assert "spinach" in name.lower()
    foods = json.loads(richest)
    assert foods["mineral"]["symbol"] == "Mg"
    assert len(foods["items"]) == 3

    problem, status = answer(error)
    assert status == 404
    assert problem["code"] == "ingredient.unknown_mineral"
