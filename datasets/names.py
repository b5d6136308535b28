"""Dataset names with options: `scheme:body[key=value,key=[a,b]]`, parsed and written canonically.

Workers load datasets by name alone, so a name must carry everything that defines the data
(`file:/abs/x.csv[target=y,positive=1]`, `synthetic[n=1000000,prevalence=0.01,...]`). Names are stored
with the results, so the canonical spelling has to be unique and stable: options in a fixed order,
numbers written one way, values quoted (JSON style) only when they contain `,[]="` or spaces.

Written by hand because the syntax is imbench's own (TOML and JSON would not read `keel:yeast4`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

OptionValue = str | list[str]
_SPECIAL = set(',[]="')


class NameSyntaxError(ValueError):
    """A dataset name whose `[...]` options cannot be read."""


@dataclass(frozen=True)
class ParsedName:
    """`scheme:body[options]`; `body` is '' for names like `synthetic[...]`."""

    scheme: str
    body: str
    options: dict[str, OptionValue] = field(default_factory=dict)

    def option_list(self, key: str) -> list[str] | None:
        """An option as a list (a single value becomes a one-element list), or None when absent."""
        value = self.options.get(key)
        if value is None:
            return None
        return list(value) if isinstance(value, list) else [value]


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside brackets and quotes."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _scalar(text: str, name: str) -> str:
    text = text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise NameSyntaxError(f"dataset name {name!r}: bad quoted value {text}") from None
        return str(value)
    if any(ch in _SPECIAL for ch in text):
        raise NameSyntaxError(f"dataset name {name!r}: value {text!r} needs quotes (\"...\")")
    return text


def _value(text: str, name: str) -> OptionValue:
    text = text.strip()
    if text.startswith("["):
        if not text.endswith("]"):
            raise NameSyntaxError(f"dataset name {name!r}: unclosed list in {text!r}")
        inner = text[1:-1].strip()
        return [_scalar(part, name) for part in _split_top_level(inner)] if inner else []
    return _scalar(text, name)


def _options_start(name: str) -> int:
    """Index of the `[` that opens the trailing options group, or -1 (paths may contain `[`)."""
    if not name.endswith("]"):
        return -1
    depth, quoted = 0, False
    for i in range(len(name) - 1, -1, -1):
        ch = name[i]
        if ch == '"' and (i == 0 or name[i - 1] != "\\"):
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "]":
            depth += 1
        elif ch == "[":
            depth -= 1
            if depth == 0:
                return i
    raise NameSyntaxError(f"dataset name {name!r}: unbalanced brackets")


def parse_name(name: str) -> ParsedName:
    """Split a dataset name into scheme, body and options (values stay strings)."""
    name = name.strip()
    start = _options_start(name)
    head, options_text = (name[:start], name[start + 1:-1]) if start >= 0 else (name, "")
    colon, bracket = head.find(":"), len(head)
    if colon >= 0:
        scheme, body = head[:colon], head[colon + 1:]
    else:
        scheme, body = head[:bracket], ""
    options: dict[str, OptionValue] = {}
    if options_text.strip():
        for part in _split_top_level(options_text):
            if "=" not in part:
                raise NameSyntaxError(f"dataset name {name!r}: option {part.strip()!r} is not key=value")
            key, value = part.split("=", 1)
            key = key.strip()
            if not key or key in options:
                raise NameSyntaxError(f"dataset name {name!r}: empty or repeated option {key!r}")
            options[key] = _value(value, name)
    return ParsedName(scheme.strip(), body.strip(), options)


def quote(value: object) -> str:
    """A value as written in a canonical name: bare when safe, JSON-quoted otherwise."""
    text = format_number(value) if isinstance(value, float) else str(value)
    if not text or text != text.strip() or any(ch in _SPECIAL for ch in text):
        return json.dumps(text)
    return text


def format_number(value: float | int) -> str:
    """One spelling per number: integers without a dot, floats by repr (0.01, 1e-05)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def format_name(scheme: str, body: str = "", options: Mapping[str, object] | None = None,
                order: Iterable[str] = ()) -> str:
    """The canonical name: options in `order` first, then the others sorted; None values dropped."""
    head = f"{scheme}:{body}" if body else scheme
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if not options:
        return head
    order = [k for k in order if k in options]
    keys = order + sorted(k for k in options if k not in order)
    parts = []
    for key in keys:
        value = options[key]
        if isinstance(value, (list, tuple)):
            parts.append(f"{key}=[{','.join(quote(v) for v in value)}]")
        else:
            parts.append(f"{key}={quote(value)}")
    return f"{head}[{','.join(parts)}]"
