"""Cycles in the "pack needs pack" graph, with the path the error message shows."""

from __future__ import annotations

import time

import pytest

from st2pkg.packs.cycles import find_cycle


@pytest.mark.parametrize(("needs", "cycle"), [
    ({}, []),
    ({"a": ["b"], "b": ["c"], "c": []}, []),
    ({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}, []),
    ({"a": ["a"]}, ["a", "a"]),
    ({"a": ["b"], "b": ["a"]}, ["a", "b", "a"]),
    ({"x": ["a"], "a": ["b"], "b": ["c"], "c": ["a"]}, ["a", "b", "c", "a"]),
    ({"a": ["gone"]}, []),
    ({"a": ["b"], "b": [], "c": ["d"], "d": ["c"]}, ["c", "d", "c"]),
])
def test_cycles_with_their_path(needs: dict[str, list[str]], cycle: list[str]) -> None:
    assert find_cycle(needs) == cycle


def test_the_first_cycle_in_insertion_order() -> None:
    assert find_cycle({"p": ["q"], "q": ["p"], "a": ["b"], "b": ["a"]}) == ["p", "q", "p"]


def test_a_deep_chain_needs_no_recursion() -> None:
    chain = {f"p{i}": [f"p{i + 1}"] for i in range(20_000)}
    started = time.monotonic()
    assert find_cycle(chain) == []
    chain["p20000"] = ["p0"]
    found = find_cycle(chain)
    assert (found[0], found[-1], len(found)) == ("p0", "p0", 20_002)
    assert time.monotonic() - started < 1.0
