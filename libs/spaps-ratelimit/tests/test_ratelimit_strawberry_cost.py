"""``operation_cost``: the static price of an operation, read off the parsed document."""

from __future__ import annotations

import graphql
import pytest
from spaps_ratelimit.strawberry import OperationCost, operation_cost

SDL = """
type Query {
  me: User
  users(first: Int, after: String): [User!]!
  search(text: String!, limit: Int = 5): [Node!]!
  node(id: ID!): Node
}
interface Node { id: ID! }
type User implements Node {
  id: ID!
  name: String!
  posts(first: Int, last: Int): [Post!]!
  friends: [User!]!
}
type Post implements Node { id: ID! title: String! }
type Mutation { publish(title: String!): Post! }
"""
SCHEMA = graphql.build_schema(SDL)


def cost(query: str, **kwargs: object) -> OperationCost:
    return operation_cost(graphql.parse(query), schema=SCHEMA, **kwargs)  # type: ignore[arg-type]


def test_counts_depth_aliases_fields_and_tokens() -> None:
    found = cost("{ me { id a: name b: name posts(first: 2) { title } } }")
    assert (found.depth, found.aliases, found.fields) == (3, 2, 6)
    # { me { id a : name b : name posts ( first : 2 ) { title } } }
    assert found.tokens == 21
    assert found.total == 1 + 1 + 1 + 1 + (1 + 2 * 1)


def test_a_size_argument_multiplies_the_cost_below_the_field() -> None:
    found = cost("{ users(first: 10) { id posts(last: 3) { id title } } }")
    # users: 1 + 10 * (id 1 + posts (1 + 3 * 2))
    assert found.total == 1 + 10 * (1 + (1 + 3 * 2))


def test_field_costs_price_type_and_field() -> None:
    found = cost(
        "{ users(first: 2) { name } me { name } }",
        field_costs={"Query.users": 5, "User.name": 3},
        default_field_cost=0,
    )
    assert found.total == (5 + 2 * 3) + (0 + 3)


def test_sizes_come_from_variables_then_defaults() -> None:
    query = (
        "query Q($n: Int, $m: Int = 4) { users(first: $n) { id } me { posts(first: $m) { id } } }"
    )
    assert cost(query, variables={"n": 7}).total == (1 + 7) + (1 + (1 + 4))
    assert cost(query, variables={"n": 7, "m": 2}).total == (1 + 7) + (1 + (1 + 2))
    # A variable without a value, and a size the schema declares without a default
    # left out, count the default (10); a declared default is what the resolver gets.
    assert cost(query).total == (1 + 10) + (1 + (1 + 4))
    assert cost("{ me { posts { id } } }").total == 1 + (1 + 10)
    assert cost("{ me { posts { id } } }", default_list_size=3).total == 1 + (1 + 3)
    assert cost('{ search(text: "x") { id } }').total == 1 + 5


def test_negative_sizes_count_as_zero() -> None:
    assert cost("{ users(first: -5) { id } }").total == 1


def test_a_list_of_scalars_counts_each_item_as_a_field() -> None:
    document = graphql.parse("{ tags(first: 30) }")
    assert operation_cost(document).total == 1 + 30
    assert operation_cost(document, default_field_cost=2).total == 2 + 30 * 2
    assert operation_cost(document, field_costs={"Query.tags": 5}).total == 5 + 30


def test_fragments_and_inline_fragments_are_expanded_with_their_type() -> None:
    query = """
    { node(id: 1) { ...Named ... on Post { title } } me { ...Named } }
    fragment Named on User { name friends { id } }
    """
    found = cost(query, field_costs={"User.name": 4, "Post.title": 2, "User.friends": 6})
    assert found.total == (1 + (4 + 6 + 1) + 2) + (1 + 4 + 6 + 1)
    assert found.depth == 3
    assert found.fields == 1 + 3 + 1 + 1 + 3


def test_a_fragment_bomb_is_priced_without_expanding_it() -> None:
    # Each fragment spreads the previous one twice: 2**100 fields, which no walk that
    # expands every spread would ever finish counting.
    parts = ["fragment F0 on User { id }"]
    parts += [f"fragment F{i} on User {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 101)]
    found = cost("{ me { ...F100 } } " + " ".join(parts))
    assert found.fields == 1 + 2**100
    assert found.total == 1 + 2**100
    assert found.depth == 2


def test_a_fragment_cycle_is_refused_not_followed() -> None:
    query = "{ me { ...A } } fragment A on User { ...B } fragment B on User { id ...A }"
    with pytest.raises(ValueError, match="fragment cycle"):
        cost(query)
    with pytest.raises(ValueError, match="unknown fragment"):
        cost("{ me { ...Missing } }")


def test_the_operation_is_chosen_by_name() -> None:
    document = 'query A { me { id } } query B { users(first: 3) { id } } mutation C { publish(title: "t") { id } }'  # noqa: E501  # one document, three operations
    assert cost(document, operation_name="A").total == 2
    assert cost(document, operation_name="B").total == 4
    assert cost(document, operation_name="C", field_costs={"Mutation.publish": 50}).total == 51
    with pytest.raises(ValueError, match="no single anonymous operation"):
        cost(document)
    with pytest.raises(ValueError, match="no operation 'D'"):
        cost(document, operation_name="D")


def test_without_a_schema_only_roots_and_type_conditions_are_typed() -> None:
    document = graphql.parse("{ users(first: 4) { posts { id } ... on User { name } } }")
    found = operation_cost(document, field_costs={"Query.users": 2, "User.name": 5})
    # posts has no size argument here and no schema says it takes one: no multiplier.
    assert found.total == 2 + 4 * ((1 + 1) + 5)


def test_a_document_built_without_locations_still_counts_tokens() -> None:
    document = graphql.parse("{ me { id } }", no_location=True)
    assert operation_cost(document).tokens == 6


def test_prices_are_validated() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        cost("{ me { id } }", default_field_cost=-1)
