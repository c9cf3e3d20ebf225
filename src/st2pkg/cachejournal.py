"""What a run added to the cache while it was still checking its input, so that bad input
leaves the cache as it was: mirrors, checkouts and snapshots this process made are removed
again when planning ends in bad input (exit 2)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import USAGE, St2PkgError

_made: list[Path] = []
_lock = threading.Lock()


def record(path: Path) -> None:
    """``path`` (a file or directory) was made by this process."""
    with _lock:
        _made.append(path)


def make_dirs(path: Path) -> None:
    """``mkdir -p path``, recording the top-most directory it had to make."""
    top = None
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        top = parent
    path.mkdir(parents=True, exist_ok=True)
    if top is not None:
        record(top)


@contextmanager
def undone_on_bad_input() -> Iterator[None]:
    """Run the body; if it raises an error of bad input, remove what it recorded (newest
    first). Entries made before the body are kept, and so is everything on success."""
    with _lock:
        start = len(_made)
    try:
        yield
    except St2PkgError as err:
        if err.exit_code == USAGE:
            _undo(start)
        raise


def _undo(start: int) -> None:
    with _lock:
        made, _made[start:] = _made[start:], []
    for path in reversed(made):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
