"""How an option is declared, and how a raw value (YAML, or a string from the environment or
command line) becomes that option's type, or one ConfigError naming where it came from."""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ConfigError, suggest
from .redact import redact_url

Kind = Literal["str", "int", "bool", "list", "rules", "choice", "path", "optstr", "optpath"]
# Lists are comma-separated; lists of names may be space-separated too.
_WORD_SEPARATORS = re.compile(r"[,\s]+")
# Longest piece of a bad value an error message quotes.
SHOWN = 60
# No option's value is longer (a URL, a path, a list of mirrors).
LONGEST = 2000
# A bad value is quoted this far: nested or aliased YAML is never walked whole.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 2, 4, 4
_REPR.maxstring = _REPR.maxother = SHOWN
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class OptionSpec:
    """How one option is named, typed, defaulted and documented."""

    name: str
    env: str
    kind: Kind
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    secret_url: bool = False
    # int options: the largest value allowed; str options: what a value must match, and how
    # to say it.
    maximum: int | None = None
    pattern: str | None = None
    pattern_help: str = ""
    # list options of names: spaces separate items too (the historical ST2_PACKAGES form)
    words: bool = False
    # The command-line flag that sets it, where one does (errors name it).
    flag: str | None = None


def shown(value: Any) -> str:
    """A value as an error message quotes it: redacted and bounded."""
    text = redact_url(_REPR.repr(value))
    return text if len(text) <= SHOWN else text[:SHOWN] + "...(cut)"


@dataclass(frozen=True)
class _Value:
    spec: OptionSpec
    raw: Any
    where: str

    def bad(self, what: str) -> ConfigError:
        return ConfigError(f"{self.where}: option '{self.spec.name}' {what}")


def parse(spec: OptionSpec, raw: Any, where: str) -> Any:
    """Turn a raw value into the option's type, or raise ConfigError."""
    value = _Value(spec, raw, where)
    if raw is None:
        if spec.kind in ("optstr", "optpath"):
            return None
        raise value.bad("must not be empty")
    return _PARSERS.get(spec.kind, _text)(value)


def _items(v: _Value) -> tuple[str, ...]:
    items = v.raw
    if isinstance(v.raw, str):
        items = _WORD_SEPARATORS.split(v.raw) if v.spec.words else v.raw.split(",")
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise v.bad(f"must be a list of names or a comma-separated string, got {shown(v.raw)}")
    return tuple(i.strip() for i in items if i.strip())


def _list(v: _Value) -> tuple[str, ...]:
    cleaned = _items(v)
    if sum(len(i) for i in cleaned) > LONGEST:
        raise v.bad(f"is longer than {LONGEST} characters in all; name fewer or shorter items")
    if not cleaned:
        raise v.bad("must name at least one item")
    return cleaned


def _rules(v: _Value) -> tuple[str, ...]:
    """``PREFIX=MIRROR`` items: both sides given."""
    items = _items(v)
    for item in items:
        prefix, eq, target = item.partition("=")
        if not (eq and prefix.strip() and target.strip()):
            raise v.bad(f"item {redact_url(item)[:SHOWN]!r} is not PREFIX=MIRROR (e.g. "
                        "https://github.com/StackStorm/=file:///srv/git/)")
    return tuple("=".join(p.strip() for p in i.partition("=")[::2]) for i in items)


def _bool(v: _Value) -> bool:
    if isinstance(v.raw, bool):
        return v.raw
    text = str(v.raw).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise v.bad(f"must be true or false (1/0, yes/no, on/off), got {shown(v.raw)}")


def _int(v: _Value) -> int:
    if isinstance(v.raw, bool):
        raise v.bad(f"must be a whole number, got {shown(v.raw)}")
    try:
        number = int(v.raw)
    except (TypeError, ValueError) as err:
        raise v.bad(f"must be a whole number, got {shown(v.raw)}") from err
    top = v.spec.maximum
    if number < 0 or (top is not None and number > top):
        most = f" and at most {top}" if top is not None else ""
        raise v.bad(f"must be 0 or more{most}, got {number}")
    return number


def _text(v: _Value) -> str | None:
    """str, choice, path, optstr and optpath values: a string, matched where a pattern or
    choices say; empty is None for the optional kinds, refused for str."""
    if not isinstance(v.raw, str | int | float) or isinstance(v.raw, bool):
        raise v.bad(f"must be a string, got {shown(v.raw)}")
    text = str(v.raw).strip()
    spec = v.spec
    if len(text) > LONGEST:
        raise v.bad(f"is {len(text)} characters long; no value is longer than {LONGEST}")
    if spec.pattern and text and not re.fullmatch(spec.pattern, text):
        raise v.bad(f"must be {spec.pattern_help}, got {shown(text)}")
    if spec.kind == "choice" and text not in spec.choices:
        allowed = ", ".join(spec.choices)
        raise v.bad(f"is {shown(text)}; allowed: {allowed}{suggest(text, spec.choices)}")
    if spec.kind in ("optstr", "optpath"):
        return text or None
    if not text and spec.kind != "path":
        raise v.bad("must not be empty")
    return text


_PARSERS: dict[str, Callable[[_Value], Any]] = {
    "list": _list, "rules": _rules, "bool": _bool, "int": _int}
