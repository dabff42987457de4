"""JSON encoding of column values for tenant exports, and the way back."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Column


def encode_value(value: Any) -> Any:
    """Return a JSON-compatible form of one column value."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.name
    raise TypeError(f"cannot export a value of type {type(value).__name__}")


def _python_type(column: Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


_DECODERS: dict[type, Any] = {
    dt.datetime: dt.datetime.fromisoformat,
    dt.date: dt.date.fromisoformat,
    dt.time: dt.time.fromisoformat,
    dt.timedelta: lambda seconds: dt.timedelta(seconds=seconds),
    Decimal: Decimal,
    uuid.UUID: uuid.UUID,
    bytes: base64.b64decode,
    float: float,
}


def decode_value(column: Column[Any], value: Any) -> Any:
    """Turn an exported value back into what ``column`` stores."""
    if value is None:
        return None
    kind = _python_type(column)
    if kind is None or isinstance(value, kind):
        return value
    if issubclass(kind, enum.Enum):
        return kind[value]
    decoder = _DECODERS.get(kind)
    return value if decoder is None else decoder(value)
