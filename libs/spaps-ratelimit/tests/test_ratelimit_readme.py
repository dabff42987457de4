"""The README's first example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_example_runs() -> None:
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match is not None, "README has no python example"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", match.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == '200 "10-per-1s";r=19;t=1, "1000-per-3600s";r=999;t=4'
    assert lines[1] == "[200, 200, 200, 429]"
