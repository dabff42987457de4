"""Workspace scans: rules a passing test suite must not be able to hide.

Each scan reads the code (with :mod:`ast`, never by importing it) and reports every
offence as ``path:line: rule: detail``. Each scan also has a test that feeds it a small
synthetic offender, so a scan that silently stopped finding anything would fail too.

Rules (the names in the reports):

* ``sleep`` -- no ``time.sleep``/``asyncio.sleep``/``anyio.sleep``/``trio.sleep`` in test
  code unless the line says why it is not synchronisation: ``# sleep-ok: <reason>``.
* ``elapsed-time`` -- no assertion on elapsed wall-clock time.
* ``skip-reason`` -- a skip either says ``not applicable: ...`` or sits in a function that
  consults ``SPAPS_REQUIRE_SERVICES`` (which turns it into a failure under ``make test``).
* ``private-attribute`` -- library and service code reads no private attribute of objects
  it does not own (third-party objects); the few exceptions are allow-listed with a reason.
* ``module-size`` -- no module over 300 lines in ``libs/*/src``, ``services/*/src``, ``tools``.
* ``free-port`` -- no free port picked by binding port 0, reading the port and closing
  the socket before the port is used (another process can take it in between).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# --- shared helpers -------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.detail}"


@dataclass
class Source:
    """One parsed module: its tree, parent links and comments by line."""

    path: str
    text: str
    tree: ast.Module = field(init=False)
    parents: dict[ast.AST, ast.AST] = field(init=False)
    comments: dict[int, str] = field(init=False)
    imported: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.text, self.path)
        self.parents = {
            child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)
        }
        self.comments = {
            token.start[0]: token.string
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline)
            if token.type == tokenize.COMMENT
        }
        self.imported = self.imports()

    def finding(self, node: ast.AST, rule: str, detail: str) -> Finding:
        return Finding(self.path, getattr(node, "lineno", 0), rule, detail)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parents:
            node = self.parents[node]
            yield node

    def imports(self) -> dict[str, str]:
        """Local name -> the dotted name it was imported as (``t`` -> ``time``)."""
        names: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        names[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return names

    def qualname(self, node: ast.AST) -> str | None:
        """``time.sleep`` for ``t.sleep`` after ``import time as t``; None if not imported."""
        if isinstance(node, ast.Name):
            return self.imported.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None


def functions(node: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for child in ast.walk(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield child


def string_prefix(node: ast.AST | None) -> tuple[str, bool] | None:
    """The literal start of a string expression (a constant, an f-string, a concatenation),
    and whether anything (a placeholder, another operand) follows it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, False
    if isinstance(node, ast.JoinedStr):
        literal = ""
        for index, part in enumerate(node.values):
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                return literal, index < len(node.values)
            literal += part.value
        return literal, False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = string_prefix(node.left)
        return (left[0], True) if left else None
    return None


def files(*patterns: str) -> list[Path]:
    found = {p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file()}
    return sorted(p for p in found if ".venv" not in p.parts)


@cache
def load(path: Path) -> Source:
    return Source(path.relative_to(ROOT).as_posix(), path.read_text())


def scan(paths: Iterable[Path], check: object) -> list[Finding]:
    assert callable(check)
    return [finding for path in paths for finding in check(load(path))]


def synthetic(code: str) -> Source:
    return Source("<synthetic>", code)


def report(findings: list[Finding]) -> str:
    return f"{len(findings)} offence(s):\n" + "\n".join(str(f) for f in findings)


# The code each rule covers.
TEST_CODE = files(
    "libs/*/tests/**/*.py",
    "services/*/tests/**/*.py",
    "tests/**/*.py",
    "conftest.py",
    "services/conftest.py",
)
SOURCE_CODE = files("libs/*/src/**/*.py", "services/*/src/**/*.py")
SIZED_CODE = files("libs/*/src/**/*.py", "services/*/src/**/*.py", "tools/**/*.py")
PORT_CODE = files("libs/*/tests/**/*.py", "services/*/tests/**/*.py", "tests/**/*.py",
                  "conftest.py", "services/conftest.py", "tools/**/*.py",
                  "services/*/tools/**/*.py")  # fmt: skip


def test_scans_cover_the_workspace() -> None:
    assert len(TEST_CODE) > 80
    assert ROOT / "conftest.py" in TEST_CODE
    assert ROOT / "services" / "conftest.py" in TEST_CODE
    assert any(p.name == "webhooks_receiver_app.py" for p in TEST_CODE), "helper apps count"
    assert len(SOURCE_CODE) > 100
    assert any(p.parent.name == "tools" for p in SIZED_CODE)


# --- a. sleep ----------------------------------------------------------------------------

SLEEPS = {"time.sleep", "asyncio.sleep", "anyio.sleep", "trio.sleep"}
SLEEP_OK = re.compile(r"#\s*sleep-ok:\s*\S")


def scan_sleeps(src: Source) -> list[Finding]:
    found = []
    for node in ast.walk(src.tree):
        if not (isinstance(node, ast.Attribute | ast.Name) and src.qualname(node) in SLEEPS):
            continue
        if isinstance(src.parents.get(node), ast.Attribute):
            continue  # part of a longer dotted name
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        parent = src.parents.get(node)
        if isinstance(parent, ast.Call):  # the comment may close a wrapped call
            lines = range(parent.lineno, (parent.end_lineno or parent.lineno) + 1)
        if not any(SLEEP_OK.search(src.comments.get(line, "")) for line in lines):
            why = f"{src.qualname(node)} without '# sleep-ok: <reason>' (poll for the state)"
            found.append(src.finding(node, "sleep", why))
    return found


def test_scan_sleep_in_tests() -> None:
    findings = scan(TEST_CODE, scan_sleeps)
    assert not findings, report(findings)


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("import time\ntime.sleep(0.1)\n", 1),
        ("import asyncio\nasync def f():\n    await asyncio.sleep(0)\n", 1),
        ("from anyio import sleep as nap\nasync def f():\n    await nap(1)\n", 1),
        ("import trio as t\nt.sleep(1)\n", 1),
        ("import time\nrun(time.sleep, 1)\n", 1),
        ("import time\ntime.sleep(1)  # sleep-ok:\n", 1),
        ("import time\ntime.sleep(1)  # sleep-ok: the handler under test is slow\n", 0),
        ("import time\ntime.sleep(\n    1,\n)  # sleep-ok: a slow receiver\n", 0),
        ("import time\ntime.monotonic()\nsleep(1)\n", 0),
    ],
)
def test_scan_sleep_catches_synthetic_offenders(code: str, count: int) -> None:
    assert len(scan_sleeps(synthetic(code))) == count


# --- b. elapsed time ---------------------------------------------------------------------

CLOCKS = {
    f"time.{name}"
    for name in ("monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "time", "time_ns")
}


def is_clock_call(src: Source, node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    if src.qualname(node.func) in CLOCKS:
        return True
    func = node.func  # loop.time(), asyncio.get_running_loop().time()
    if isinstance(func, ast.Attribute) and func.attr == "time":
        base = func.value
        if isinstance(base, ast.Name) and "loop" in base.id.lower():
            return True
        if isinstance(base, ast.Call):
            inner = base.func
            name = inner.attr if isinstance(inner, ast.Attribute) else getattr(inner, "id", "")
            return name in {"get_running_loop", "get_event_loop"}
    return False


def clock_names(src: Source, scope: ast.AST) -> tuple[set[str], set[str]]:
    """Names holding clock readings (``t0 = time.monotonic()``) and differences of two."""
    readings: set[str] = set()
    elapsed: set[str] = set()
    for _ in range(3):  # to a fixed point over chains of assignments
        for node in ast.walk(scope):
            if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            value = node.value
            if any(is_clock_difference(src, n, readings) for n in ast.walk(value)) or any(
                isinstance(n, ast.Name) and n.id in elapsed for n in ast.walk(value)
            ):
                elapsed |= names
            elif uses_clock(src, value, readings):
                readings |= names
    return readings, elapsed


def uses_clock(src: Source, expr: ast.AST, readings: set[str]) -> bool:
    return any(
        is_clock_call(src, n) or (isinstance(n, ast.Name) and n.id in readings)
        for n in ast.walk(expr)
    )


def is_clock_difference(src: Source, node: ast.AST, readings: set[str]) -> bool:
    """``b - a`` where both sides come from the clock (``now - 60`` is a timestamp)."""
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Sub)
        and uses_clock(src, node.left, readings)
        and uses_clock(src, node.right, readings)
    )


def is_assertion(node: ast.AST) -> ast.AST | None:
    """The asserted expression of ``assert`` or an ``assert*``-style call (unittest, numpy)."""
    if isinstance(node, ast.Assert):
        return node.test
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name.startswith("assert") or name == "approx":
            return ast.Tuple(elts=[*node.args, *(k.value for k in node.keywords)], ctx=ast.Load())
    return None


def scan_elapsed(src: Source) -> list[Finding]:
    found = []
    for scope in [src.tree, *functions(src.tree)]:
        readings, elapsed = clock_names(src, scope)
        body = scope.body if isinstance(scope, ast.Module) else [scope]
        for node in (n for top in body for n in ast.walk(top)):
            if isinstance(scope, ast.Module) and any(
                isinstance(a, ast.FunctionDef | ast.AsyncFunctionDef) for a in src.ancestors(node)
            ):
                continue  # judged with its function's names
            expr = is_assertion(node)
            if expr is None:
                continue
            why = None
            for n in ast.walk(expr):
                called = getattr(src.parents.get(n), "func", None) is n
                if (
                    isinstance(n, ast.Name)
                    and not called
                    and ("elapsed" in n.id.lower() or n.id in elapsed)
                ):
                    why = f"asserts on {n.id!r}"
                elif isinstance(n, ast.Attribute) and "elapsed" in n.attr.lower():
                    why = f"asserts on {ast.unparse(n)!r}"
                elif is_clock_call(src, n):
                    why = (
                        f"asserts on the clock ({ast.unparse(n)}); a deadline that only ends "
                        "a hung wait raises (pytest.fail, TimeoutError) instead"
                    )
                elif is_clock_difference(src, n, readings):
                    why = f"asserts on a clock difference ({ast.unparse(n)})"
                if why:
                    break
            if why:
                found.append(src.finding(node, "elapsed-time", why))
    return sorted(set(found), key=lambda f: f.line)


def test_scan_elapsed_time_in_tests() -> None:
    findings = scan(TEST_CODE, scan_elapsed)
    assert not findings, report(findings)


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("def test():\n    elapsed = run()\n    assert elapsed < 1\n", 1),
        ("def test():\n    assert result.elapsed.total_seconds() < 1\n", 1),
        ("import time\ndef test():\n    assert time.monotonic() < deadline\n", 1),
        ("from time import perf_counter\ndef test():\n    t0 = perf_counter()\n    run()\n"
         "    took = perf_counter() - t0\n    assert took < 0.5\n", 1),
        ("import time\ndef test():\n    t0 = time.time()\n    t1 = time.time()\n"
         "    assert t1 - t0 < 2\n", 1),
        ("import asyncio\nasync def test():\n    loop = asyncio.get_running_loop()\n"
         "    assert loop.time() > 0\n", 1),
        ("def test(self):\n    self.assertLess(elapsed, 1)\n", 1),
        ("import time\ndef test():\n    now = time.time()\n    token = make(exp=now - 5)\n"
         "    assert claims['exp'] == now + 900\n    assert check(token)\n", 0),
        ("def test():\n    assert scan_elapsed(code) == []\n", 0),
        ("import time\ndef wait(ready):\n    deadline = time.monotonic() + 30\n"
         "    while not ready():\n        if time.monotonic() > deadline:\n"
         "            raise TimeoutError\n", 0),
    ],
)  # fmt: skip
def test_scan_elapsed_time_catches_synthetic_offenders(code: str, count: int) -> None:
    assert len(scan_elapsed(synthetic(code))) == count


# --- c. skips ---------------------------------------------------------------------------

SWITCH = "SPAPS_REQUIRE_SERVICES"
NOT_APPLICABLE = "not applicable: "
SKIPS = {"pytest.skip", "pytest.mark.skip", "pytest.mark.skipif", "pytest.importorskip"}


def skip_reason(name: str, call: ast.Call | None) -> ast.AST | None:
    if call is None:
        return None
    for keyword in call.keywords:
        if keyword.arg in {"reason", "msg"}:
            return keyword.value
    if name in {"pytest.skip", "pytest.mark.skip"} and call.args:
        return call.args[0]
    return None


def consults_switch(src: Source, node: ast.AST) -> bool:
    constants = {
        target.id
        for top in src.tree.body
        if isinstance(top, ast.Assign) and isinstance(top.value, ast.Constant)
        and top.value.value == SWITCH
        for target in top.targets
        if isinstance(target, ast.Name)
    }  # fmt: skip
    for ancestor in src.ancestors(node):
        if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
            for n in ast.walk(ancestor):
                if (isinstance(n, ast.Constant) and n.value == SWITCH) or (
                    isinstance(n, ast.Name) and n.id in constants
                ):
                    return True
    return False


def scan_skips(src: Source) -> list[Finding]:
    found = []
    for node in ast.walk(src.tree):
        if not isinstance(node, ast.Attribute | ast.Name):
            continue
        name = src.qualname(node)
        parent = src.parents.get(node)
        if name not in SKIPS or isinstance(parent, ast.Attribute):
            continue
        call = parent if isinstance(parent, ast.Call) and parent.func is node else None
        reason = skip_reason(name, call)
        prefix = string_prefix(reason)
        if (
            prefix is not None
            and prefix[0].startswith(NOT_APPLICABLE)
            and (prefix[0][len(NOT_APPLICABLE) :].strip() or prefix[1])
        ):
            continue
        if consults_switch(src, node):
            continue
        shown = ast.unparse(reason) if reason is not None else "no reason"
        why = f"{name} ({shown}): neither '{NOT_APPLICABLE}...' nor under the {SWITCH} switch"
        found.append(src.finding(node, "skip-reason", why))
    return found


def test_scan_skip_discipline() -> None:
    findings = scan(TEST_CODE, scan_skips)
    assert not findings, report(findings)


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("import pytest\ndef test():\n    pytest.skip('redis is down')\n", 1),
        ("import pytest\n@pytest.mark.skip\ndef test(): ...\n", 1),
        ("import pytest\n@pytest.mark.skipif(True, reason='POSIX only')\ndef test(): ...\n", 1),
        ("import pytest\nyaml = pytest.importorskip('yaml')\n", 1),
        ("from pytest import skip\ndef f():\n    skip(reason=f'no {x}')\n", 1),
        ("import pytest\n@pytest.mark.skipif(True, reason='not applicable: POSIX only')\n"
         "def test(): ...\n", 0),
        ("import pytest\ndef test():\n    pytest.skip(f'not applicable: {x} is absent')\n", 0),
        ("import os, pytest\ndef need():\n    if os.environ.get('SPAPS_REQUIRE_SERVICES'):\n"
         "        pytest.fail('down')\n    pytest.skip('down')\n", 0),
        ("import os, pytest\nSWITCH = 'SPAPS_REQUIRE_SERVICES'\ndef need():\n"
         "    if os.environ.get(SWITCH):\n        pytest.fail('down')\n    pytest.skip('x')\n", 0),
    ],
)  # fmt: skip
def test_scan_skip_catches_synthetic_offenders(code: str, count: int) -> None:
    assert len(scan_skips(synthetic(code))) == count


# --- d. private attributes of objects we do not own ----------------------------------------

OWN_PACKAGES = ("spaps_", "htma", "ingredient")
TYPING_NAMES = {"None", "Optional", "Union", "Final", "ClassVar", "type"}


@dataclass(frozen=True)
class Allowed:
    path: str  # a glob over the module's workspace path
    attribute: str
    justification: str


# Underscored names that are the documented public API of the object they are read from.
ALLOWED_PRIVATE = [
    Allowed("*", "_mapping", "sqlalchemy Row: documented public accessor (underscored to "
            "avoid clashing with column names)"),
    Allowed("*", "_asdict", "namedtuple / sqlalchemy Row: documented public method"),
    Allowed("*", "_fields", "namedtuple / sqlalchemy Row: documented public attribute"),
    Allowed("*", "_replace", "namedtuple (e.g. urllib's SplitResult): documented public method"),
    Allowed("*", "_make", "namedtuple: documented public class method"),
]  # fmt: skip


def allowed(path: str, attribute: str) -> bool:
    return any(fnmatch(path, a.path) and a.attribute == attribute for a in ALLOWED_PRIVATE)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def own_names(src: Source) -> set[str]:
    """Names bound to our own code: imports from our packages, relative imports, classes here."""
    names = {n.name for n in ast.walk(src.tree) if isinstance(n, ast.ClassDef)}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith(OWN_PACKAGES)
        ):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name.startswith(OWN_PACKAGES)
            }
    return names


class Ownership:
    """Which expressions of a module evaluate to our own objects (a light inference).

    Ours: ``self``/``cls``; names bound to our code; parameters and variables annotated
    with our classes; variables assigned a new instance of our class (``X(...)``,
    ``X.create(...)``) or narrowed by ``isinstance(v, X)``; attributes and items reached
    from such a variable; ``self.<attr>`` when the class assigns it one of those.
    """

    def __init__(self, src: Source) -> None:
        self.src = src
        self.own = own_names(src)
        self.scopes: dict[ast.AST, set[str]] = {}
        self.self_attrs: dict[ast.ClassDef, set[str]] = {}
        for _ in range(2):  # self attributes feed locals and back
            for cls in (n for n in ast.walk(src.tree) if isinstance(n, ast.ClassDef)):
                self.self_attrs[cls] = self.class_attributes(cls)
            self.scopes = {}

    def annotation_is_own(self, annotation: ast.AST | None) -> bool:
        if annotation is None:
            return False
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return False
        names = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
        return bool(names & self.own) and names <= self.own | TYPING_NAMES

    def enclosing(self, node: ast.AST, kind: type | types.UnionType) -> ast.AST | None:
        return next((a for a in self.src.ancestors(node) if isinstance(a, kind)), None)

    def class_attributes(self, cls: ast.ClassDef) -> set[str]:
        attrs = {
            n.target.id
            for n in cls.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            and self.annotation_is_own(n.annotation)
        }  # fmt: skip
        for node in ast.walk(cls):
            if not isinstance(node, ast.Assign | ast.AnnAssign):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            own = (isinstance(node, ast.AnnAssign) and self.annotation_is_own(node.annotation)) or (
                node.value is not None and self.is_own(node.value)
            )
            attrs |= {
                t.attr
                for t in targets
                if own and isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                and t.value.id == "self"
            }  # fmt: skip
        return attrs

    def narrowed(self, scope: ast.AST) -> set[str]:
        """Names narrowed to our classes by ``isinstance(name, X)`` somewhere in ``scope``."""
        names = set()
        for node in ast.walk(scope):
            if not (
                isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance"
                and len(node.args) == 2 and isinstance(node.args[0], ast.Name)
            ):  # fmt: skip
                continue
            kinds = node.args[1]
            elts = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
            if all(isinstance(e, ast.Name) and e.id in self.own for e in elts):
                names.add(node.args[0].id)
        return names

    @staticmethod
    def bindings(scope: ast.AST) -> Iterator[tuple[ast.AST, ast.AST | None, ast.AST | None]]:
        """(target, value, annotation) of every binding in ``scope``."""
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    yield target, node.value, None
            elif isinstance(node, ast.AnnAssign):
                yield node.target, node.value, node.annotation
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                yield node.target, node.iter, None
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                yield node.optional_vars, node.context_expr, None

    def names_of(self, scope: ast.AST | None) -> set[str]:
        if scope is None:
            return self.own | {"self", "cls"}
        if scope in self.scopes:
            return self.scopes[scope]
        outer = self.enclosing(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        names = set(self.names_of(outer)) | self.narrowed(scope)
        self.scopes[scope] = names
        args = getattr(scope, "args", None)
        if isinstance(args, ast.arguments):
            parameters = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            names |= {a.arg for a in parameters if self.annotation_is_own(a.annotation)}
        for _ in range(3):
            for target, value, annotation in self.bindings(scope):
                if isinstance(target, ast.Name) and (
                    self.annotation_is_own(annotation)
                    or (value is not None and self.is_own(value, names))
                ):
                    names.add(target.id)
        return names

    def is_own(self, expr: ast.AST, names: set[str] | None = None) -> bool:
        if names is None:
            scope = self.enclosing(expr, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            names = self.names_of(scope)
        if isinstance(expr, ast.Name):
            return expr.id in names
        if isinstance(expr, ast.Attribute) and getattr(expr.value, "id", None) == "self":
            cls = self.enclosing(expr, ast.ClassDef)
            return isinstance(cls, ast.ClassDef) and expr.attr in self.self_attrs.get(cls, set())
        if isinstance(expr, ast.Attribute | ast.Subscript):
            return self.is_own(expr.value, names)
        if isinstance(expr, ast.Call):
            return self.call_is_own(expr, names)
        return False

    def call_is_own(self, call: ast.Call, names: set[str]) -> bool:
        """``X(...)``/``X.create(...)`` of our class X, ``type(ours)``, ``super()`` of ours."""
        func = call.func
        if isinstance(func, ast.Attribute):
            func = func.value
        if not isinstance(func, ast.Name):
            return False
        if func.id == "super":
            bases = getattr(self.enclosing(call, ast.ClassDef), "bases", [])
            return all(isinstance(b, ast.Name) and b.id in self.own for b in bases)
        if func.id == "type" and call.args:
            return self.is_own(call.args[0], names)
        return func.id in self.own and func.id[:1].isupper()


def scan_private_attributes(src: Source) -> list[Finding]:
    ownership = Ownership(src)
    found = []
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            base, attribute = node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") in {"getattr", "setattr", "hasattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and is_private(node.args[1].value)
        ):
            base, attribute = node.args[0], node.args[1].value
        else:
            continue
        if ownership.is_own(base) or allowed(src.path, attribute):
            continue
        found.append(src.finding(node, "private-attribute", f"{ast.unparse(node)}: private "
                                 "attribute of an object this code does not own"))  # fmt: skip
    return sorted(found, key=lambda f: f.line)


def test_scan_private_attributes_in_sources() -> None:
    findings = scan(SOURCE_CODE, scan_private_attributes)
    assert not findings, report(findings)


def test_scan_private_allow_list_is_justified() -> None:
    for entry in ALLOWED_PRIVATE:
        assert is_private(entry.attribute)
        assert len(entry.justification) > 20, entry


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("import structlog\nlog = structlog.get_logger()\nlog._context\n", 1),
        ("def f(client):\n    return client._transport\n", 1),
        ("def f(decoder):\n    return getattr(decoder, '_jws', None)\n", 1),
        ("import sys\nsys._getframe(1)\n", 1),
        ("import httpx\nclass C:\n    def __init__(self):\n        self.client = httpx.Client()\n"
         "    def f(self):\n        return self.client._transport\n", 1),
        ("class C:\n    def f(self):\n        return self._x, type(self)._y, C._z\n", 0),
        ("from ._store import Store\ndef f(store: Store):\n    return store._data\n", 0),
        ("from spaps_ops import Ops\ndef f():\n    ops = Ops()\n    return ops._open\n", 0),
        ("class K:\n    def __eq__(self, other: object):\n"
         "        return isinstance(other, K) and other._key == self._key\n", 0),
        ("def f(row):\n    return row._mapping\n", 0),
        ("def f(x):\n    return x.__class__\n", 0),
    ],
)  # fmt: skip
def test_scan_private_attributes_catches_synthetic_offenders(code: str, count: int) -> None:
    assert len(scan_private_attributes(synthetic(code))) == count


# --- e. module size ---------------------------------------------------------------------

MAX_LINES = 300


def scan_size(src: Source) -> list[Finding]:
    lines = len(src.text.splitlines())
    if lines <= MAX_LINES:
        return []
    return [Finding(src.path, lines, "module-size", f"{lines} lines (at most {MAX_LINES})")]


def test_scan_module_size() -> None:
    findings = scan(SIZED_CODE, scan_size)
    assert not findings, report(findings)


def test_scan_module_size_catches_synthetic_offender() -> None:
    assert len(scan_size(synthetic("x = 1\n" * (MAX_LINES + 1)))) == 1
    assert scan_size(synthetic("x = 1\n" * MAX_LINES)) == []


# --- f. bind-then-close free ports -------------------------------------------------------


def binds_port_zero(call: ast.AST) -> bool:
    """``s.bind((host, 0))`` or ``socket.create_server((host, 0))``."""
    if not isinstance(call, ast.Call) or not call.args:
        return False
    name = getattr(call.func, "attr", getattr(call.func, "id", ""))
    address = call.args[0]
    return (
        name in {"bind", "create_server"}
        and isinstance(address, ast.Tuple)
        and len(address.elts) >= 2
        and isinstance(address.elts[1], ast.Constant)
        and address.elts[1].value == 0
    )


def bound_sockets(src: Source, func: ast.AST) -> Iterator[tuple[str, ast.Call]]:
    """(name, bind call) of every socket ``func`` binds to port 0."""
    for node in ast.walk(func):
        if not binds_port_zero(node):
            continue
        assert isinstance(node, ast.Call)
        holder = node.func.value if isinstance(node.func, ast.Attribute) else None
        parent = src.parents.get(node)
        if isinstance(holder, ast.Name) and holder.id != "socket":
            yield holder.id, node
        elif isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
            yield parent.optional_vars.id, node  # with socket.create_server(...) as s
        elif isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Name):
            yield parent.targets[0].id, node  # s = socket.create_server(...)


def mentions(expr: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expr))


HANDOVER = {"fileno", "detach"}


def handed_over(src: Source, func: ast.AST, name: str) -> bool:
    """The socket itself or its descriptor (``s.fileno()``) is passed to a call."""
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
        for argument in [*call.args, *(k.value for k in call.keywords)]:
            for n in ast.walk(argument):
                parent = src.parents.get(n)
                passed = not isinstance(parent, ast.Attribute) or parent.attr in HANDOVER
                if isinstance(n, ast.Name) and n.id == name and passed:
                    return True
    return False


def scan_free_ports(src: Source) -> list[Finding]:
    found = []
    for func in functions(src.tree):
        withs = {
            item.optional_vars.id: node
            for node in ast.walk(func)
            if isinstance(node, ast.With | ast.AsyncWith)
            for item in node.items
            if isinstance(item.optional_vars, ast.Name)
        }
        for name, _ in bound_sockets(src, func):
            closes = [
                n.lineno
                for n in ast.walk(func)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr == "close" and getattr(n.func.value, "id", None) == name
            ]  # fmt: skip
            held_by = withs.get(name)
            if held_by is not None:
                closes.append(held_by.end_lineno or 0)
            if not closes or handed_over(src, func, name):
                continue
            closed = min(closes)
            ports = {  # names assigned from the socket's address
                n.id
                for node in ast.walk(func)
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
                and mentions(node.value, {name}) and "getsockname" in ast.unparse(node.value)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                for n in ast.walk(target)
                if isinstance(n, ast.Name)
            }  # fmt: skip
            uses = [
                node
                for node in ast.walk(func)
                if (isinstance(node, ast.Name) and node.id in ports and node.lineno > closed)
                or (
                    isinstance(node, ast.Return) and node.value is not None
                    and held_by is not None and held_by in src.ancestors(node)
                    and (mentions(node.value, ports) or "getsockname" in ast.unparse(node.value))
                )
            ]  # fmt: skip
            if not uses:
                continue
            how = (
                f"returns the port of {name!r} from inside the block that closes it"
                if isinstance(uses[0], ast.Return)
                else f"closes {name!r} (line {closed}) and uses its port after (line "
                f"{uses[0].lineno})"
            )
            found.append(src.finding(func, "free-port", f"{func.name}() binds port 0 and {how}: "
                                     "another process can take the port in between; pass port 0 "
                                     "to the server or hand over the socket"))  # fmt: skip
    return found


def test_scan_free_ports() -> None:
    findings = scan(PORT_CODE, scan_free_ports)
    assert not findings, report(findings)


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("import socket\ndef free_port():\n    with socket.socket() as s:\n"
         "        s.bind(('127.0.0.1', 0))\n        return int(s.getsockname()[1])\n", 1),
        ("import socket\ndef free_port():\n    s = socket.socket()\n    s.bind(('', 0))\n"
         "    port: int = s.getsockname()[1]\n    s.close()\n    return port\n", 1),
        ("import socket, subprocess\ndef start():\n    with socket.socket() as s:\n"
         "        s.bind(('127.0.0.1', 0))\n        port = s.getsockname()[1]\n"
         "    subprocess.Popen(['srv', str(port)])\n", 1),
        ("import socket\ndef free_port():\n    with socket.create_server(('127.0.0.1', 0)) as s:\n"
         "        return s.getsockname()[1]\n", 1),
        ("import socket\ndef held():\n    s = socket.socket()\n    s.bind(('127.0.0.1', 0))\n"
         "    s.listen()\n    return s\n", 0),
        ("import socket\ndef serve():\n    with socket.socket() as s:\n"
         "        s.bind(('127.0.0.1', 0))\n        port = s.getsockname()[1]\n"
         "        run(sockets=[s], port=port)\n", 0),
        ("import socket\ndef fixture():\n    s = socket.socket()\n    s.bind(('127.0.0.1', 0))\n"
         "    port = s.getsockname()[1]\n    yield port\n    s.close()\n", 0),
        ("import socket, subprocess\ndef start():\n"
         "    listener = socket.create_server(('127.0.0.1', 0))\n"
         "    port = listener.getsockname()[1]\n"
         "    subprocess.Popen(['uvicorn', '--fd', str(listener.fileno())],\n"
         "                     pass_fds=[listener.fileno()])\n"
         "    listener.close()\n    return port\n", 0),
    ],
)  # fmt: skip
def test_scan_free_ports_catches_synthetic_offenders(code: str, count: int) -> None:
    assert len(scan_free_ports(synthetic(code))) == count
