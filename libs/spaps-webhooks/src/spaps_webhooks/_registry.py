"""Versioned event schemas: ``result.ready.v1`` -> a pydantic model."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ._builtin_events import BUILTIN_EVENTS
from ._errors import InvalidPayloadError, UnknownEventTypeError

_EVENT_TYPE = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)\.v(?P<version>[1-9][0-9]*)$"
)

ModelT = TypeVar("ModelT", bound=type[BaseModel])


@dataclass(frozen=True, slots=True)
class EventSchema:
    """One registered event type."""

    event_type: str
    name: str
    version: int
    model: type[BaseModel]
    description: str

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the payload (``data``) of this event type."""
        schema: dict[str, Any] = self.model.model_json_schema()
        return schema


def parse_event_type(event_type: str) -> tuple[str, int]:
    """Split ``"result.ready.v1"`` into ``("result.ready", 1)``.

    Raises:
        ValueError: The type is not dotted lowercase names ending with ``.v<N>``.
    """
    match = _EVENT_TYPE.match(event_type)
    if match is None:
        raise ValueError(
            f"event type {event_type!r} must be dotted lowercase names ending with .v<N>, "
            "e.g. 'result.ready.v1'"
        )
    return match["name"], int(match["version"])


class EventRegistry:
    """Event types and the pydantic models their payloads must satisfy.

    The version is part of the type (``result.ready.v1``, ``result.ready.v2``), so a
    breaking change is a new type and receivers can subscribe to the version they parse.

    Args:
        builtin: Register the library's own event types (``webhook.test.v1``,
            ``webhook.endpoint.disabled.v1``); default ``True``.
    """

    def __init__(self, *, builtin: bool = True) -> None:
        self._schemas: dict[str, EventSchema] = {}
        if builtin:
            for event_type, model in BUILTIN_EVENTS:
                self.register(event_type, model)

    def register(
        self, event_type: str, model: type[BaseModel], *, description: str | None = None
    ) -> None:
        """Register ``model`` as the payload schema of ``event_type``.

        Args:
            event_type: ``<dotted.name>.v<N>``.
            model: A pydantic model class.
            description: Shown in the docs listing; defaults to the model docstring.

        Raises:
            ValueError: Bad type name or already registered with another model.
        """
        name, version = parse_event_type(event_type)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError("model must be a pydantic BaseModel subclass")
        existing = self._schemas.get(event_type)
        if existing is not None and existing.model is not model:
            raise ValueError(f"event type {event_type!r} is already registered")
        text = description if description is not None else (model.__doc__ or "").strip()
        self._schemas[event_type] = EventSchema(event_type, name, version, model, text)

    def event(
        self, event_type: str, *, description: str | None = None
    ) -> Callable[[ModelT], ModelT]:
        """Class decorator form of :meth:`register`."""

        def decorate(model: ModelT) -> ModelT:
            self.register(event_type, model, description=description)
            return model

        return decorate

    def get(self, event_type: str) -> EventSchema:
        """Return the schema of ``event_type``.

        Raises:
            UnknownEventTypeError: Not registered.
        """
        try:
            return self._schemas[event_type]
        except KeyError:
            raise UnknownEventTypeError(f"event type {event_type!r} is not registered") from None

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._schemas

    def __iter__(self) -> Iterator[EventSchema]:
        return iter(sorted(self._schemas.values(), key=lambda s: (s.name, s.version)))

    def validate(self, event_type: str, payload: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``payload`` against the schema of ``event_type``; return its JSON form.

        Args:
            event_type: A registered type.
            payload: A model instance or a mapping.

        Raises:
            UnknownEventTypeError: Not registered.
            InvalidPayloadError: The payload does not match the schema.
        """
        schema = self.get(event_type)
        try:
            if isinstance(payload, BaseModel):
                if not isinstance(payload, schema.model):
                    raise InvalidPayloadError(
                        event_type,
                        f"expected a {schema.model.__name__}, got {type(payload).__name__}",
                    )
                instance = payload
            else:
                instance = schema.model.model_validate(dict(payload))
        except ValidationError as exc:
            errors: list[dict[str, object]] = json.loads(exc.json(include_url=False))
            raise InvalidPayloadError(event_type, str(exc), errors=errors) from None
        return instance.model_dump(mode="json")

    def describe(self) -> list[dict[str, Any]]:
        """A JSON-able listing of every event type (for docs and the router)."""
        return [
            {
                "type": s.event_type,
                "name": s.name,
                "version": s.version,
                "description": s.description,
                "schema": s.json_schema(),
            }
            for s in self
        ]

    def to_markdown(self) -> str:
        """A Markdown listing of every event type with its JSON Schema."""
        lines = ["# Webhook event types", ""]
        for schema in self:
            lines += [f"## `{schema.event_type}`", ""]
            if schema.description:
                lines += [schema.description, ""]
            lines += ["```json", json.dumps(schema.json_schema(), indent=2), "```", ""]
        return "\n".join(lines)
