"""Local pack directories that are not git repositories, pinned by their content.

Such a directory is installed as it is on disk. It is copied into the cache first and the
copy is hashed, so an edit made while st2pkg runs cannot mix two states into one image. The
copy is kept under ``snapshots/<sha256>``; ``sha256:<hex>`` stands where a commit would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..git import publish

PREFIX = "sha256:"
# Never part of a pack: a nested repository's metadata and Python's byte-code caches.
_SKIP = (".git", "__pycache__")


def is_plain_dir(path: Path) -> bool:
    """A directory with no ``.git`` at its top (it may still sit inside some repository)."""
    return path.is_dir() and not (path / ".git").exists()


def short(revision: str) -> str:
    """A revision for messages: 12 hex digits of a commit or of a content hash."""
    if revision.startswith(PREFIX):
        return PREFIX + revision[len(PREFIX):][:12]
    return revision[:12]


def tree_digest(root: Path) -> str:
    """SHA-256 over every entry's relative path, kind, executable bit and content."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                entry = f"L\0{rel}\0{os.readlink(path)}"
            elif path.is_dir():
                entry = f"D\0{rel}"
            else:
                executable = "x" if os.access(path, os.X_OK) else "-"
                content = hashlib.sha256(path.read_bytes()).hexdigest()
                entry = f"F\0{rel}\0{executable}\0{content}"
            digest.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()


def snapshot(path: Path, cache: Path) -> tuple[str, Path]:
    """Copy ``path`` into ``cache/snapshots``; return ``sha256:<hex>`` and the copy."""
    root = cache / "snapshots"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        tree = tmp / "tree"
        shutil.copytree(path, tree, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
        digest = tree_digest(tree)
        dest = root / digest
        if not dest.is_dir():
            publish(tree, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PREFIX + digest, dest
