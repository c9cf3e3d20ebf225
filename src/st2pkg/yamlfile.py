"""Reading the YAML files users and the repository provide, with one kind of error: a single
line naming the file, and where in it for a syntax error. Anchors are YAML's own, but a
document whose aliases expand past ``MAX_NODES`` values (a "billion laughs") is refused
before anything walks it, and so is one nested past the parser's depth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

# More values, and deeper nesting, than any config, spec, catalog or pack.yaml holds by far.
MAX_NODES = 100_000
MAX_DEPTH = 100


def read_yaml(path: Path, what: str, hint: str) -> Any:
    """Parse ``path``; a missing, unreadable or malformed file is a ConfigError naming it.

    ``what`` names the file's role ("config file"), ``hint`` says what to do when missing.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: {what} not found; {hint}") from err
    except IsADirectoryError as err:
        raise ConfigError(f"{path}: {what} is a directory, not a file; {hint}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (byte {err.start}); save it as "
                          "UTF-8") from err
    except OSError as err:
        raise ConfigError(f"{path}: {what} cannot be read: {err.strerror}; {hint}") from err
    return parse_yaml(text, f"{path}")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (the
    last one would silently win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML ``text``; ``where`` (a file name) starts every error line."""
    # PyYAML's scanner is quadratic in flow nesting ([[[...]]]): refused before it starts.
    if _flow_depth(text) > MAX_DEPTH:
        raise ConfigError(f"{where}: nested too deeply to read (more than {MAX_DEPTH} "
                          "levels); flatten it")
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects
    except yaml.MarkedYAMLError as err:
        raise ConfigError(f"{where}: not valid YAML: {_said(err)}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{where}: not valid YAML: {_one_line(str(err))}") from err
    except RecursionError as err:
        raise ConfigError(f"{where}: nested too deeply to read; flatten it") from err
    except ValueError as err:
        # PyYAML's own conversions: a date that is none (2024-13-45), a 5000-digit number.
        raise ConfigError(f"{where}: a value cannot be read: {_one_line(str(err))}; quote "
                          "it to keep it a string") from err
    size = _exceeds(data, MAX_NODES, MAX_DEPTH)
    if size == "deep":
        raise ConfigError(f"{where}: nested too deeply to read (more than {MAX_DEPTH} "
                          "levels); flatten it")
    if size == "large":
        raise ConfigError(f"{where}: holds more than {MAX_NODES} values once its anchors are "
                          "expanded; write the values out instead of nesting aliases")
    return data


def _said(err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return _one_line(f"{err.problem or err.context or 'syntax error'}{at}")


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:200] + "...(cut)"


def _flow_depth(text: str) -> int:
    """The deepest nesting of flow collections ([...] and {...}) outside quoted scalars: a
    linear scan, approximate only where YAML is stranger than any file of ours (a bracket in
    a comment counts, which errs towards refusing)."""
    deepest = depth = 0
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote and text[i - 1] != "\\" else quote
        elif char in "'\"" and (i == 0 or text[i - 1] in " \t\n[{,:"):
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _exceeds(data: Any, limit: int, depth: int) -> str | None:
    """"large" when walking ``data`` (aliases followed, as every reader will) meets more
    than ``limit`` values, "deep" when it nests past ``depth``; stops as soon as it does."""
    seen, stack = 0, [(data, 0)]
    while stack:
        item, level = stack.pop()
        seen += 1
        if seen > limit:
            return "large"
        if level > depth:
            return "deep"
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in [*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return None
