"""Reading a JSON request body: the one place every JSON channel turns bytes into Python values.

`parse(body)` returns the value or raises `BadJson` with a short reason a 400/422 can carry. A body
nested thousands of levels deep makes the C decoder raise RecursionError; that is a client's
malformed input like any other, never a 500. Values nested deeper than MAX_DEPTH are refused too,
so no code after the parse (validation, error messages that echo the input, logging) has to walk
a structure deep enough to exhaust the stack.
"""
from __future__ import annotations

import json
from typing import Any

# No tuanbot payload is more than a few levels deep (a bridge message is 1, an admin product 3).
MAX_DEPTH = 32


class BadJson(ValueError):
    """The body is not usable JSON; `reason` says why in a few words (never quoting the body)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse(body: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    try:
        value = json.loads(body)
    except RecursionError:
        raise BadJson(f"JSON nested more than {max_depth} levels deep") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadJson("malformed JSON") from None
    # Nesting needs an opening bracket per level: a body with few of them (every chat message) cannot be
    # too deep, and counting bytes costs far less than walking the parsed value.
    if _brackets(body) > max_depth and isinstance(value, (dict, list)) and too_deep(value, max_depth):
        raise BadJson(f"JSON nested more than {max_depth} levels deep")
    return value


def _brackets(body: bytes | str) -> int:
    curly, square = (b"{", b"[") if isinstance(body, bytes) else ("{", "[")
    return body.count(curly) + body.count(square)


def too_deep(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether containers nest more than max_depth levels (a flat object is depth 1). Iterative, so
    it cannot itself run out of stack; it stops at the first branch that is too deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return True
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False
