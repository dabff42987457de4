"""The e-mail pattern means the same to the OpenAPI document's readers (ECMAScript
regular expressions: generated clients, fuzzers) as to htma (pydantic's Rust regex)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Annotated

import pytest
from htma.accounts.schemas import EMAIL_PATTERN
from pydantic import Field, TypeAdapter, ValidationError

#: White space to at least one of ECMAScript, Rust's regex and Python's re.
SPACES = [
    "\t", "\n", "\v", "\f", "\r", " ", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2000",
    "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff",
]  # fmt: skip
ACCEPTED = ["a@b", "ana@clinic.example", "ünïcode@klinik.example"]
REFUSED = [
    "a@b@c", "@clinic.example", "ana@",
    *(f"an{c}a@clinic.example" for c in SPACES), *(f"ana@clinic{c}.example" for c in SPACES),
]  # fmt: skip
ECMASCRIPT = """
const [pattern, addresses] = process.argv.slice(1);
const flags = ["", "u"];  // a plain and a Unicode-aware reader
console.log(JSON.stringify(flags.map((f) => JSON.parse(addresses).map(
  (a) => new RegExp(pattern, f).test(a)))));
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        missing = "node (Node.js) is not installed: it reads the pattern as clients do"
        if os.environ.get("SPAPS_REQUIRE_SERVICES"):
            pytest.fail(missing)
        pytest.skip(missing)
    return node


def _pydantic_accepts(address: str) -> bool:
    try:
        TypeAdapter(Annotated[str, Field(pattern=EMAIL_PATTERN)]).validate_python(address)
    except ValidationError:
        return False
    return True


def test_htma_and_ecmascript_refuse_the_same_addresses() -> None:
    addresses = ACCEPTED + REFUSED
    expected = [True] * len(ACCEPTED) + [False] * len(REFUSED)
    assert [_pydantic_accepts(a) for a in addresses] == expected
    answer = subprocess.run(
        [_node(), "-e", ECMASCRIPT, EMAIL_PATTERN, json.dumps(addresses)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    plain, unicode = json.loads(answer.stdout)
    assert plain == unicode == expected
