"""tools/standalone_check.py runs every README example in the fresh environment, with only
what the README's install line names, before any test tool is installed."""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import standalone_check  # noqa: E402

README = """# spaps-demo

Intro.

```console
$ pip install 'spaps-demo[cli,db]' aiosqlite --quiet
```

```python
print("fine")
```

Not python:

```text
import nothing
```

```python
import asgi_lifespan
```
"""


def test_every_python_block_is_an_example_with_its_line() -> None:
    examples = standalone_check.readme_examples(README)
    assert [(e.number, e.line, e.code) for e in examples] == [
        (1, 9, 'print("fine")\n'),
        (2, 19, "import asgi_lifespan\n"),
    ]
    assert repr(examples[1]) == "example 2 (README.md line 19)"


def test_the_install_line_names_extras_and_other_requirements() -> None:
    assert standalone_check.readme_install(README, "spaps-demo") == (["cli", "db"], ["aiosqlite"])
    assert standalone_check.readme_install(README, "spaps-other") == ([], [])
    assert standalone_check.readme_install("pip install spaps-demo\n", "spaps-demo") == ([], [])


@pytest.fixture
def empty_venv(tmp_path: Path) -> Path:
    """A fresh virtual environment with nothing installed; yields its python."""
    venv = tmp_path / "venv"
    subprocess.run(
        [*standalone_check.uv(), "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True,
        timeout=120,
    )
    return venv / "bin" / "python"


def test_an_undeclared_import_fails_with_one_line_naming_library_and_example(
    empty_venv: Path, tmp_path: Path
) -> None:
    # The workspace has asgi_lifespan (a dev tool), so a test run there would hide the import.
    assert importlib.util.find_spec("asgi_lifespan") is not None
    failures = standalone_check.run_readme_examples("spaps-demo", README, empty_venv, tmp_path)
    assert failures == [
        "spaps-demo: README example 2 (README.md line 19) failed: "
        "ModuleNotFoundError: No module named 'asgi_lifespan'"
    ]
    assert (tmp_path / "readme-spaps-demo-1" / "readme_example.py").read_text() == 'print("fine")\n'


def test_the_check_runs_the_examples_before_the_test_group_is_installed() -> None:
    source = inspect.getsource(standalone_check.check)
    examples = source.index("run_readme_examples(")
    assert source.index("readme_install(") < examples
    assert examples < source.index("IMPORT_ALL") < source.index("*test_deps")
    assert "raise SystemExit" in source[examples : source.index("IMPORT_ALL")]
