"""Cycles in the "pack needs pack" graph, found with their path for the error message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(needs: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle as ``[a, b, …, a]`` (the first one met, in insertion order), or ``[]``."""
    done: set[str] = set()
    for start in needs:
        path: list[str] = []
        on_path: set[str] = set()
        # Iterative depth-first search: each frame is a node and its next child index.
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                if node in on_path:
                    return [*path[path.index(node):], node]
                if node in done:
                    continue
                path.append(node)
                on_path.add(node)
            children = needs.get(node, ())
            if i < len(children):
                stack += [(node, i + 1), (children[i], 0)]
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)
    return []
