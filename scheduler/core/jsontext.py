"""JSON texts and numbers.

``json.dumps`` of plain values (strings, numbers, ``None``, lists, dictionaries with string
keys) with its default separators, for the many small texts an import makes per row (keys,
digests, trail states): the same text, with the C encoder built once instead of on each call
(``json.dumps`` builds it anew every time); and `json_number`, a Decimal as the JSON
number every ``--format json`` writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any


def _dumps(ensure_ascii: bool) -> Callable[[Any], str]:
    encoder = json.JSONEncoder(ensure_ascii=ensure_ascii)
    make = getattr(json.encoder, "c_make_encoder", None)  # None without the C accelerator
    if make is None:
        return encoder.encode
    quote = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    # the arguments JSONEncoder.iterencode passes, without the check for circular values
    iterencode = make(
        None, encoder.default, quote, None, encoder.key_separator, encoder.item_separator,
        False, False, True,
    )  # fmt: skip
    return lambda value: "".join(iterencode(value, 0))


dumps: Callable[[Any], str] = _dumps(True)  # json.dumps(value)
dumps_unicode: Callable[[Any], str] = _dumps(False)  # json.dumps(value, ensure_ascii=False)


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an integer when it has no fraction."""
    if value is None:
        return None
    return _number(value)


@lru_cache(maxsize=4096)
def _number(value: Decimal) -> int | float:
    """`json_number` of one value; a status holds few distinct ones, many times over (equal
    Decimals such as 1 and 1.00 are one entry, and the same number)."""
    return int(value) if value == value.to_integral_value() else float(value)
