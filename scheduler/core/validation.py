"""pydantic's validation errors in the catalogue's words, for ruleset and configuration files.

`validation_message(item)` turns one item of ``ValidationError.errors()`` into a `Message`: in
English pydantic's own text, unchanged; in Chinese the catalogue's words for the error types
those files meet (a number, a date, a choice, a bound, a length). A validator's `Refused` is
its own `Message`; an error type without Chinese words keeps pydantic's English text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from scheduler.core.problems import Message, Refused

_KIND = {
    "int_parsing": "int", "int_type": "int", "int_from_float": "int",
    "float_parsing": "number", "float_type": "number", "decimal_parsing": "number",
    "decimal_type": "number", "bool_parsing": "bool", "bool_type": "bool",
    "string_type": "string", "string_too_short": "string_too_short", "too_short": "too_short",
    "greater_than": "greater_than", "greater_than_equal": "greater_than_equal",
    "less_than": "less_than", "less_than_equal": "less_than_equal",
    "literal_error": "literal_error", "date_parsing": "date", "date_type": "date",
    "date_from_datetime_parsing": "date", "date_from_datetime_inexact": "date",
    "time_parsing": "time", "time_type": "time", "dict_type": "mapping",
    "model_type": "mapping", "model_attributes_type": "mapping", "list_type": "list",
    "requirement": "requirement",
}  # fmt: skip


def validation_message(item: Mapping[str, Any]) -> Message:
    """One pydantic error item as a `Message` (English: pydantic's text, cleaned)."""
    context = item.get("ctx") or {}
    error = context.get("error")
    if item["type"] == "value_error" and isinstance(error, Refused):
        return error.message
    english = clean(str(item["msg"]))
    values = {name: _number(value) for name, value in context.items() if name != "error"}
    if "expected" in values:
        values["choices"] = re.split(r", | or ", str(values["expected"]))
    return Message(f"validation.{_KIND.get(item['type'], 'other')}", english=english, **values)


def clean(message: str) -> str:
    """pydantic's message without its prefix and without the names of our schema classes."""
    return re.sub(r" or instance of \w+Spec\b", "", message.removeprefix("Value error, "))


def _number(value: Any) -> Any:
    """``0.0`` as ``0``: a bound said as the file would write it."""
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    return value
