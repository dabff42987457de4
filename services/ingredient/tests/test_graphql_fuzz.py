"""Schema-driven fuzzing of ``/graphql``: operations generated from ``sdl()`` (valid
ones, with hostile argument values, and invalid ones) never answer 5xx nor an internal
error, on both back ends.

The operations are drawn first (derandomized, so every run sends the same ones) and sent
afterwards: the app runs on the test's event loop, which Hypothesis' synchronous test
function cannot await.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries, strategies
from ingredient.graphql import sdl

VALID_CASES = 35
INVALID_CASES = 15
#: The code of a masked, unexpected exception (spaps-ops' ProblemErrors).
INTERNAL_CODES = {"internal", "ops.internal_error"}
#: Values no generator is sure to try: NUL (PostgreSQL refuses it in text), long and
#: non-ASCII text, search syntax, extreme sizes, forged cursors.
HOSTILE = [
    '{ ingredient(id: "A0\\u00001") { code } }',
    '{ ingredient(id: "%s") { code } }' % ("x" * 5000),
    '{ ingredient(id: "\u0938\u093e\u0917") { code } }',
    '{ search(query: "ri\\u0000ce") { totalCount } }',
    '{ search(query: "\\"spin* OR NEAR(a b) -x:y") { totalCount } }',
    '{ search(query: "rice", first: 2147483647) { totalCount } }',
    '{ search(query: "rice", first: -1) { totalCount } }',
    '{ search(query: "rice", first: null, after: null) { totalCount } }',
    '{ search(query: "rice", after: "c2VhcmNoOnYxOjk5OTk5OTk5OTk5") { totalCount } }',
    '{ search(query: "rice", after: "c2VhcmNoOnYxOi0x") { totalCount } }',
    '{ search(query: "rice", after: "%%%") { totalCount } }',
]


def draw(strategy: st.SearchStrategy[Any], count: int) -> list[str]:
    drawn: list[str] = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(document: str) -> None:
        drawn.append(document)

    collect()
    return drawn


async def test_generated_operations_never_fail_inside(
    seeded_url: str, make_client: Any, issuer: Any
) -> None:
    schema = sdl()
    documents = (
        HOSTILE
        + draw(queries(schema), VALID_CASES)
        + draw(strategies.queries(schema, mode=strategies.Mode.NEGATIVE), INVALID_CASES)
    )
    assert len(set(documents)) > VALID_CASES
    token = {"Authorization": f"Bearer {issuer.token('practitioner')}"}
    # a budget the fuzzing never spends: every operation runs (none is answered 429)
    plans = {"free": "60/minute", "token": "100000/minute"}
    async with make_client(database_url=seeded_url, headers=token, plans=plans) as client:
        answered = 0
        for document in documents:
            response = await client.post("/graphql", json={"query": document})
            assert response.status_code in {200, 400}, (document, response.text)
            body = response.json()
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
            assert not codes & INTERNAL_CODES, (document, body)
            assert not body.get("errors") or all(codes), (document, body)
            answered += isinstance(body.get("data"), dict)
        assert answered >= VALID_CASES // 2  # most valid operations ran
        # the client kept working: the fuzzing broke nothing
        ok = await client.post("/graphql", json={"query": '{ ingredient(id: "A001") { code } }'})
        assert ok.json()["data"] == {"ingredient": {"code": "A001"}}
