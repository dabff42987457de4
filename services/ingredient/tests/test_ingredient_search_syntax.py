"""Query text never reaches the search engines as syntax: any input is safe."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingredient.catalog.search import (
    MAX_QUERY_WORDS,
    fts5_match,
    query_words,
    search_statement,
    tsquery_text,
)
from ingredient.errors import InvalidQueryError


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61 remove_diacritics 2')"
    )
    connection.executemany("INSERT INTO t VALUES (?)", [("spinach leaves",), ("black rice",)])
    yield connection
    connection.close()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_a_valid_fts5_query_or_rejected(fts: sqlite3.Connection, text: str) -> None:
    try:
        words = query_words(text)
    except InvalidQueryError:
        assert not any(ch.isalnum() for ch in text)
        return
    assert 1 <= len(words) <= MAX_QUERY_WORDS
    fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts5_match(words),)).fetchall()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spinach", ['"spinach"*']),
        ('black" OR rice', ['"black"*', '"or"*', '"rice"*']),
        ("NEAR(a b)", ['"near"*', '"a"*', '"b"*']),
    ],
)
def test_operators_become_plain_words(text: str, expected: list[str]) -> None:
    assert fts5_match(query_words(text)) == " ".join(expected)


def test_words_are_capped_and_lowercased() -> None:
    words = query_words(" ".join(f"W{i}" for i in range(30)))
    assert words == [f"w{i}" for i in range(MAX_QUERY_WORDS)]
    assert tsquery_text(["milk", "rice"]) == "milk:* & rice:*"


def test_prefix_matching_through_the_stemmer(fts: sqlite3.Connection) -> None:
    found = fts.execute("SELECT a FROM t WHERE t MATCH ?", (fts5_match(["spina"]),)).fetchall()
    assert found == [("spinach leaves",)]


def test_other_dialects_are_refused() -> None:
    with pytest.raises(ValueError, match="not available on 'mysql'"):
        search_statement("mysql", "rice")
