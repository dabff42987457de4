"""The npm tools some workspace tests run (``make clients`` installs them, npm ci)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import api_contract


def require(program: str, tool: str | None = None) -> None:
    """Skip the test unless the npm tool can run; under SPAPS_REQUIRE_SERVICES fail instead.

    Args:
        program: the Node.js executable it needs on ``PATH`` (``node`` or ``npm``).
        tool: its executable in ``clients/node_modules/.bin``; ``None``: only that the
            locked packages are installed.
    """
    missing = None
    if shutil.which(program) is None:
        missing = f"{program} (Node.js 20+) is not installed: the npm tools need it"
    elif not (
        api_contract.BIN / tool
        if tool
        else api_contract.CLIENTS / "node_modules" / ".package-lock.json"
    ).exists():
        missing = "clients/node_modules is missing: `make clients` (npm ci) installs it"
    if missing is None:
        return
    if os.environ.get("SPAPS_REQUIRE_SERVICES"):
        pytest.fail(f"{missing} (SPAPS_REQUIRE_SERVICES is set: nothing may skip)")
    pytest.skip(missing)
