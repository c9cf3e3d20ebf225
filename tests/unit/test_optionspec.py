"""Raw option values into their types: each kind's parsing, the one-line errors naming
where a bad value came from, and bad values quoted redacted and bounded, however big."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from st2pkg.errors import ConfigError
from st2pkg.optionspec import LONGEST, SHOWN, Kind, OptionSpec, parse, shown

WHERE = "st2pkg.yml"


def spec(kind: Kind, **more: Any) -> OptionSpec:
    return OptionSpec("opt", "ST2PKG_OPT", kind, None, "An option.", **more)


def refused(option: OptionSpec, raw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse(option, raw, WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: option 'opt' ")
    return message[len(f"{WHERE}: option 'opt' "):]


@pytest.mark.parametrize(("raw", "words", "expect"), [
    ("a, b,,c ", False, ("a", "b", "c")),
    ("st2 st2client", False, ("st2 st2client",)),
    ("st2 st2client,  st2docs", True, ("st2", "st2client", "st2docs")),
    (["st2", " st2client "], False, ("st2", "st2client")),
])
def test_lists(raw: Any, words: bool, expect: tuple[str, ...]) -> None:
    assert parse(spec("list", words=words), raw, WHERE) == expect


def test_bad_lists() -> None:
    assert refused(spec("list"), " , ") == "must name at least one item"
    assert refused(spec("list"), [1, 2]) == (
        "must be a list of names or a comma-separated string, got [1, 2]")
    assert refused(spec("list"), ["x" * 1001, "y" * 1000]) == (
        f"is longer than {LONGEST} characters in all; name fewer or shorter items")
    assert refused(spec("list"), None) == "must not be empty"


def test_rules_are_prefix_equals_mirror() -> None:
    assert parse(spec("rules"), "https://github.com/ = file:///srv/git/", WHERE) == (
        "https://github.com/=file:///srv/git/",)
    assert parse(spec("rules"), "", WHERE) == ()
    message = refused(spec("rules"), "https://user:token@github.com/")
    assert message.startswith("item 'https://***@github.com/' is not PREFIX=MIRROR")
    assert refused(spec("rules"), "a=").startswith("item 'a=' is not PREFIX=MIRROR")


@pytest.mark.parametrize(("raw", "expect"), [
    (True, True), (False, False), ("Yes", True), (" off ", False), ("1", True), (0, False)])
def test_bools(raw: Any, expect: bool) -> None:
    assert parse(spec("bool"), raw, WHERE) is expect


def test_bad_bool() -> None:
    assert refused(spec("bool"), "maybe") == (
        "must be true or false (1/0, yes/no, on/off), got 'maybe'")


def test_ints_with_a_maximum() -> None:
    assert parse(spec("int", maximum=3), "3", WHERE) == 3
    assert parse(spec("int"), 10**6, WHERE) == 10**6
    assert refused(spec("int", maximum=3), 4) == "must be 0 or more and at most 3, got 4"
    assert refused(spec("int"), -1) == "must be 0 or more, got -1"
    assert refused(spec("int"), True) == "must be a whole number, got True"
    assert refused(spec("int"), "two") == "must be a whole number, got 'two'"


def test_a_choice_suggests_the_closest() -> None:
    choice = spec("choice", choices=("auto", "systemd", "plain"))
    assert parse(choice, " plain ", WHERE) == "plain"
    assert refused(choice, "sytemd") == (
        "is 'sytemd'; allowed: auto, systemd, plain (did you mean 'systemd'?)")
    assert refused(choice, "zzz") == "is 'zzz'; allowed: auto, systemd, plain"


def test_a_pattern_says_what_it_wants() -> None:
    volume = spec("str", pattern=r"[^:]+:[^:]+", pattern_help="HOST_PATH:CONTAINER_PATH")
    assert parse(volume, "/a:/b", WHERE) == "/a:/b"
    assert refused(volume, "/a") == "must be HOST_PATH:CONTAINER_PATH, got '/a'"


def test_strings_and_the_empty_optional_kinds() -> None:
    assert parse(spec("str"), 12, WHERE) == "12"
    assert refused(spec("str"), "  ") == "must not be empty"
    assert refused(spec("str"), {"a": 1}) == "must be a string, got {'a': 1}"
    assert parse(spec("path"), "", WHERE) == ""
    for kind in ("optstr", "optpath"):
        assert parse(spec(kind), None, WHERE) is None
        assert parse(spec(kind), "  ", WHERE) is None
        assert parse(spec(kind), "x", WHERE) == "x"
    assert parse(spec("optpath"), Path("p").as_posix(), WHERE) == "p"


def test_no_value_is_longer_than_longest() -> None:
    assert parse(spec("str"), "x" * LONGEST, WHERE) == "x" * LONGEST
    assert refused(spec("str"), "x" * (LONGEST + 1)) == (
        f"is {LONGEST + 1} characters long; no value is longer than {LONGEST}")


def test_shown_redacts_and_bounds() -> None:
    assert shown("https://user:secret@example.com/x") == "'https://***@example.com/x'"
    text = shown("y" * 500)
    assert len(text) <= SHOWN
    assert "..." in text
    assert shown({f"key{i}": "v" * 50 for i in range(9)}).endswith("...(cut)")


def test_shown_never_walks_a_huge_nested_value() -> None:
    row = list(range(10**5))
    nested: list[Any] = []
    for _ in range(5000):
        nested = [nested, row]
    wide = dict.fromkeys(map(str, range(10**5)), [row] * 100)
    started = time.monotonic()
    assert shown(nested).startswith("[[[")
    assert len(shown(wide)) <= SHOWN + len("...(cut)")
    assert refused(spec("str"), wide).startswith("must be a string, got {'0': [[")
    assert time.monotonic() - started < 0.5
