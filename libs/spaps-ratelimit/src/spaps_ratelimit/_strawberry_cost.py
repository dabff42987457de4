"""The static cost of a GraphQL operation, from its parsed document (graphql-core only).

Nothing runs: the cost is read off the AST before any resolver does. Fragments are
expanded where spread, but each fragment is priced once per parent type and reused, so
a "fragment bomb" (fragments spreading fragments in a fan) is cheap to price.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Lexer,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Source,
    TokenKind,
    VariableNode,
    get_named_type,
    get_operation_ast,
    print_ast,
)

#: The size a list field counts with when the request gives none (documented as 10).
DEFAULT_LIST_SIZE = 10
_ROOT_NAMES = {
    OperationType.QUERY: "Query",
    OperationType.MUTATION: "Mutation",
    OperationType.SUBSCRIPTION: "Subscription",
}


@dataclass(frozen=True, slots=True)
class OperationCost:
    """What one operation of a document asks for, counted before it runs.

    Args:
        depth: The deepest field nesting (a root field is at depth 1).
        aliases: Fields with an alias.
        fields: Fields selected, fragments expanded where spread.
        tokens: Lexical tokens of the whole document, comments excluded (as
            strawberry's ``MaxTokensLimiter`` counts a document without comments).
        total: The priced cost (see :func:`operation_cost`).

    .. versionadded:: 0.5.0
    """

    depth: int
    aliases: int
    fields: int
    tokens: int
    total: int


@dataclass(frozen=True, slots=True)
class _Tally:
    depth: int = 0
    aliases: int = 0
    fields: int = 0
    total: int = 0

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.fields + other.fields,
            self.total + other.total,
        )


class _Pricer:
    """One walk over one operation; fragment tallies cached per (fragment, parent type)."""

    def __init__(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        *,
        schema: GraphQLSchema | None,
        variables: Mapping[str, Any],
        field_costs: Mapping[str, int],
        default_field_cost: int,
        list_size_arguments: Collection[str],
        default_list_size: int,
    ) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.schema = schema
        self.field_costs = field_costs
        self.default_field_cost = default_field_cost
        self.size_arguments = frozenset(list_size_arguments)
        self.default_list_size = default_list_size
        self.variables = dict(variables)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if self.variables.get(name) is None and isinstance(
                definition.default_value, IntValueNode
            ):
                self.variables[name] = int(definition.default_value.value)
        self.cache: dict[tuple[str, str | None], _Tally] = {}
        self.expanding: set[str] = set()

    def selections(self, node: SelectionSetNode | None, parent: str | None) -> _Tally:
        tally = _Tally()
        for selection in (node.selections or ()) if node is not None else ():
            if isinstance(selection, FieldNode):
                tally += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = condition.name.value if condition is not None else parent
                tally += self.selections(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                tally += self.spread(selection.name.value)
        return tally

    def spread(self, name: str) -> _Tally:
        fragment = self.fragments.get(name)
        if fragment is None:
            raise ValueError(f"unknown fragment {name!r}")
        parent = fragment.type_condition.name.value
        cached = self.cache.get((name, parent))
        if cached is not None:
            return cached
        if name in self.expanding:  # validation rejects cycles; never recurse forever
            raise ValueError(f"fragment {name!r} spreads itself (a fragment cycle)")
        self.expanding.add(name)
        try:
            tally = self.selections(fragment.selection_set, parent)
        finally:
            self.expanding.discard(name)
        self.cache[(name, parent)] = tally
        return tally

    def field(self, node: FieldNode, parent: str | None) -> _Tally:
        name = node.name.value
        definition = self.definition(parent, name)
        child_type = None
        if definition is not None:
            child_type = get_named_type(definition.type).name
        own = self.default_field_cost
        if parent is not None:
            own = self.field_costs.get(f"{parent}.{name}", own)
        inner = self.selections(node.selection_set, child_type)
        size = self.size(node, definition)
        each = inner.total
        if size is not None and node.selection_set is None:
            each = self.default_field_cost  # a list of scalars: each item as one field
        total = own + (each if size is None else size * each)
        alias = 1 if node.alias is not None else 0
        return _Tally(inner.depth + 1, inner.aliases + alias, inner.fields + 1, total)

    def definition(self, parent: str | None, name: str) -> GraphQLField | None:
        if self.schema is None or parent is None:
            return None
        parent_type = self.schema.get_type(parent)
        if isinstance(parent_type, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent_type.fields.get(name)
            return field
        return None

    def size(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        """The size multiplier of a field, or ``None`` for a field that takes no size."""
        sizes: list[int] = []
        for argument in node.arguments or ():
            if argument.name.value not in self.size_arguments:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                found = self.variables.get(value.name.value)
                if isinstance(found, int) and not isinstance(found, bool):
                    sizes.append(found)
            elif isinstance(value, IntValueNode):
                sizes.append(int(value.value))
        if sizes:
            return max(0, *sizes)
        declared = {} if definition is None else definition.args
        defaults = [
            found
            for name, arg in declared.items()
            if name in self.size_arguments and (found := _declared_default(arg)) is not None
        ]
        if defaults:  # left out: the resolver gets the schema's default
            return max(0, *defaults)
        # Given without a usable value (null, a missing variable), or declared without a
        # default and left out: the documented default.
        given = any(arg.name.value in self.size_arguments for arg in node.arguments or ())
        takes_size = any(name in self.size_arguments for name in declared)
        return self.default_list_size if given or takes_size else None


def _declared_default(argument: GraphQLArgument) -> int | None:
    """The int default the schema gives ``argument``, if any."""
    if argument.default_value.__class__ is int:  # graphql-core 3.2
        return int(argument.default_value)
    default = getattr(argument, "default", None)  # graphql-core 3.3: GraphQLDefaultInput
    if default is None:
        return None
    if default.value.__class__ is int:
        return int(default.value)
    return int(default.literal.value) if isinstance(default.literal, IntValueNode) else None


def _tokens(document: DocumentNode) -> int:
    body = document.loc.source.body if document.loc is not None else print_ast(document)
    lexer = Lexer(Source(body))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def operation_cost(
    document: DocumentNode,
    *,
    operation_name: str | None = None,
    field_costs: Mapping[str, int] | None = None,
    default_field_cost: int = 1,
    list_size_arguments: Collection[str] = ("first", "last", "limit"),
    variables: Mapping[str, Any] | None = None,
    schema: GraphQLSchema | None = None,
    default_list_size: int = DEFAULT_LIST_SIZE,
) -> OperationCost:
    """Count and price one operation of ``document`` without running it.

    ``total`` sums every selected field's price: ``field_costs["Type.field"]`` or
    ``default_field_cost``. A field with a size argument (one of
    ``list_size_arguments``) costs its own price plus ``size`` times the total of its
    selections (for a list of scalars, ``size`` times ``default_field_cost``). ``size``
    is the argument's literal or variable value (the largest when several are given, 0
    when negative), else the variable's default, else the argument's default in the
    schema, else ``default_list_size`` (10).

    Without ``schema``, only root fields and fields under a fragment's type condition
    know their parent type (roots are named ``Query``, ``Mutation``,
    ``Subscription``); the others cost ``default_field_cost``, and a list field
    counts as one only when the request passes it a size argument. Give the schema
    (:class:`CostLimit` does) for exact ``Type.field`` prices.

    Args:
        document: The parsed document (``graphql.parse``).
        operation_name: The operation to price; may be omitted when there is one.
        field_costs: Prices by ``"Type.field"``.
        default_field_cost: The price of any other field.
        list_size_arguments: Arguments whose value multiplies a field's selections.
        variables: The request's variables.
        schema: The graphql-core schema, for the parent type of every field.
        default_list_size: The size of a list whose size argument has no value.

    Raises:
        ValueError: No such operation (or several and no name), an unknown
            fragment, or a fragment cycle (which validation rejects first).

    .. versionadded:: 0.5.0
    """
    if default_field_cost < 0 or default_list_size < 0:
        raise ValueError("default_field_cost and default_list_size must be >= 0")
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise ValueError(
            f"no operation {operation_name!r} in the document"
            if operation_name
            else "the document has no single anonymous operation: name one"
        )
    root = None
    if schema is not None:
        root_type = schema.get_root_type(operation.operation)
        root = root_type.name if root_type is not None else None
    pricer = _Pricer(
        document,
        operation,
        schema=schema,
        variables=variables or {},
        field_costs=field_costs or {},
        default_field_cost=default_field_cost,
        list_size_arguments=list_size_arguments,
        default_list_size=default_list_size,
    )
    tally = pricer.selections(operation.selection_set, root or _ROOT_NAMES[operation.operation])
    return OperationCost(tally.depth, tally.aliases, tally.fields, _tokens(document), tally.total)
