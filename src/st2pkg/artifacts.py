"""Artifacts: the content-keyed artifact cache and the output directory, where packages,
SHA256SUMS and manifest.json appear atomically (a reader never sees a partial file).

Every file is written under a temporary name beside its final one, synced, then renamed into
place, and the temporary is removed when writing fails (a full or read-only disk). Runs from
several checkouts share one cache: its writers take an exclusive lock beside the entry."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from .errors import StageError

Kind = Literal["package", "rpm-check"]


@dataclass(frozen=True)
class Artifact:
    """One package file and everything known about it (a manifest.json entry)."""

    file: str
    recipe: str
    name: str
    version: str
    release: str
    arch: str
    format: str
    kind: Kind
    distro: str
    size: int
    sha256: str
    source_url: str
    source_revision: str
    source_commit: str
    build_seconds: float
    cached: bool = False
    # Each VCS requirement built into the package: name, url (redacted), ref, commit.
    vcs_requirements: list[dict[str, str]] = field(default_factory=list)


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: handle.read(1 << 20), b"")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in _blocks(handle):
            digest.update(block)
    return digest.hexdigest()


def _synced_copy(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` and sync it; (sha256, size) of the bytes written."""
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, target.open("wb") as dst:
        for block in _blocks(src):
            dst.write(block)
            digest.update(block)
            size += len(block)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest(), size


@contextmanager
def _temp_beside(path: Path) -> Iterator[Path]:
    """A temporary name in ``path``'s directory, renamed onto ``path`` when the body
    succeeds and removed when it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a reader sees the old file or the new one."""
    with _temp_beside(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


@contextmanager
def locked(lock_file: Path, shared: bool = False) -> Iterator[None]:
    """Hold an advisory lock on ``lock_file`` (made when missing): exclusive for writers,
    shared for readers. The kernel drops it when the process dies, so no lock outlives a
    crashed run."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield


class ArtifactCache:
    """Finished packages keyed by every input of their build."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "artifacts"

    def get(self, key: str) -> tuple[Path, list[Artifact]] | None:
        """The cached artifacts of ``key`` (directory, entries), or None."""
        meta = self.root / key / "meta.json"
        if not meta.is_file():
            return None
        with locked(self._lock(key), shared=True):
            try:
                entries = [Artifact(**item) for item in json.loads(meta.read_text())]
            except (OSError, ValueError, TypeError):
                return None
            if not all((meta.parent / a.file).is_file() for a in entries):
                return None
        return meta.parent, entries

    def put(self, key: str, files: Sequence[Path], entries: Sequence[Artifact]) -> Path:
        """Store a build's files and entries under ``key``. meta.json goes first and comes
        back last, so an entry a crash cut short is a miss, never a mix; each file is
        replaced whole, so a run still copying the previous entry's file gets one whole."""
        final = self.root / key
        try:
            with locked(self._lock(key)):
                final.mkdir(parents=True, exist_ok=True)
                (final / "meta.json").unlink(missing_ok=True)
                for path in files:
                    with _temp_beside(final / path.name) as tmp:
                        _synced_copy(path, tmp)
                keep = {"meta.json", *(path.name for path in files)}
                for stale in final.iterdir():
                    if stale.name not in keep:
                        stale.unlink()
                write_atomic(final / "meta.json",
                             json.dumps([asdict(a) for a in entries], indent=1))
        except OSError as err:
            raise StageError(f"storing the build in the artifact cache {final} failed: "
                             f"{err.strerror or err}; free space there or set another "
                             "cache_dir (ST2PKG_CACHE_DIR)") from err
        return final

    def _lock(self, key: str) -> Path:
        return self.root / f"{key}.lock"


def publish(out_dir: Path, distro: str, items: Sequence[tuple[Path, Artifact]]) -> Path:
    """Place artifacts in ``out_dir`` (rpm-check ones under rpm-check/), then rewrite
    SHA256SUMS and manifest.json for them; returns the manifest path.

    Everything is written into a staging directory inside ``out_dir`` first (same file
    system), so a full or read-only disk fails before anything there changed, and the
    staging directory goes away; what follows are renames only. The sums are those of the
    bytes placed."""
    staging: Path | None = None
    committing = False
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        previous = read_manifest(out_dir / "manifest.json")
        staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".publish-"))
        placed = _stage(staging, distro, items)
        committing = True
        _commit(staging, out_dir, placed, previous)
    except OSError as err:
        state = ("it was left partly updated" if committing
                 else "nothing there was changed")
        raise StageError(f"publishing {distro}'s packages to {out_dir} failed: "
                         f"{err.strerror or err}; {state}. Free space there or make it "
                         "writable, or choose another output (--output or ST2PKG_OUTPUT)"
                         ) from err
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir / "manifest.json"


def _stage(staging: Path, distro: str,
           items: Sequence[tuple[Path, Artifact]]) -> list[dict[str, Any]]:
    """Copy the artifacts into ``staging`` and write their SHA256SUMS and manifest there,
    every file synced; the manifest entries of what was placed."""
    placed: list[dict[str, Any]] = []
    for source, artifact in items:
        relative = artifact.file if artifact.kind == "package" else f"rpm-check/{artifact.file}"
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        digest, size = _synced_copy(source, staging / relative)
        placed.append({**asdict(artifact), "sha256": digest, "size": size, "path": relative})
    (staging / "SHA256SUMS").write_text(
        "".join(f"{e['sha256']}  {e['path']}\n" for e in placed), encoding="utf-8")
    manifest = {"distro": distro, "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "artifacts": placed}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
    for name in ("SHA256SUMS", "manifest.json"):
        with (staging / name).open("rb") as handle:
            os.fsync(handle.fileno())
    return placed


def _commit(staging: Path, out_dir: Path, placed: list[dict[str, Any]],
            previous: list[dict[str, Any]]) -> None:
    """Rename the staged files into ``out_dir``, drop what the previous manifest listed and
    this one does not, and put the manifest in place last."""
    for entry in placed:
        target = out_dir / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / entry["path"], target)
    keep = {entry["path"] for entry in placed}
    for entry in previous:
        if entry.get("path") not in keep:
            (out_dir / str(entry.get("path"))).unlink(missing_ok=True)
    # The manifest last: it is what `st2pkg test` reads to find the packages.
    os.replace(staging / "SHA256SUMS", out_dir / "SHA256SUMS")
    os.replace(staging / "manifest.json", out_dir / "manifest.json")


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The artifact entries of a manifest.json; none when it is missing or unreadable."""
    try:
        return list(json.loads(path.read_text())["artifacts"])
    except (OSError, ValueError, KeyError):
        return []
