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

from .. import cachejournal
from ..errors import ConfigError
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


def snapshot(path: Path, cache: Path, where: str) -> tuple[str, Path]:
    """Copy ``path`` into ``cache/snapshots``; return ``sha256:<hex>`` and the copy. A new
    snapshot is recorded in the cache journal; ``where`` names the request in errors."""
    root = cache / "snapshots"
    cachejournal.make_dirs(root)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        tree = tmp / "tree"
        try:
            shutil.copytree(path, tree, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
        except OSError as err:
            raise ConfigError(f"{where}: {path} cannot be copied ({_reason(err)}); make every "
                              "file of the pack readable (and no pipes or sockets)") from err
        digest = tree_digest(tree)
        dest = root / digest
        if not dest.is_dir() and publish(tree, dest):
            cachejournal.record(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PREFIX + digest, dest


def _reason(err: OSError) -> str:
    """The first failure of a copy: shutil.Error carries a list of (src, dst, why)."""
    if isinstance(err, shutil.Error) and err.args and isinstance(err.args[0], list):
        src, _, why = err.args[0][0]
        return f"{src}: {why}"
    return f"{err.filename}: {err.strerror}" if err.filename else str(err)
