"""What the ``packs.*`` tasks do: options loaded, then packs.commands, then a table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..context import load
from ..redact import redact_text
from . import commands
from .index import clip

# Index data is not ours: a cell never grows past this, nor spans lines.
CELL = 200


def _cell(value: object) -> str:
    text = "".join(c if c.isprintable() else " " for c in str(value))
    return clip(text, CELL)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    cells = [[_cell(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def search(config: str | None, query: str, indexes: Sequence[str]) -> None:
    """Print packs of the indexes matching ``query``, best first."""
    context = load(config, pack_indexes=",".join(indexes) or None)
    found = commands.search(query, context.opts.pack_indexes)
    if not found:
        print(f"no pack matches {query!r}")
        return
    _table(found, ("ref", "version", "author", "description"))


def show(config: str | None, name: str, indexes: Sequence[str]) -> None:
    """Print every field of one pack of the indexes."""
    context = load(config, pack_indexes=",".join(indexes) or None)
    _table(commands.show(name, context.opts.pack_indexes), ("field", "value"))


def build(config: str | None, spec: str, indexes: Sequence[str],
          skip_dependencies: bool) -> None:
    """Resolve a pack image spec and build one image per base tag."""
    context = load(config, pack_indexes=",".join(indexes) or None)
    opts = context.opts
    tags = commands.build(Path(spec), opts.pack_indexes, opts.cache_dir, opts.output / "packs",
                          skip_dependencies=skip_dependencies, busybox=opts.busybox,
                          log=lambda line: print(redact_text(line), file=sys.stderr),
                          engine=context.engine)
    for tag in tags:
        print(tag)
