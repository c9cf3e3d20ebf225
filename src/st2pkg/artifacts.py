"""Artifacts: the content-keyed artifact cache and the output directory, where packages,
SHA256SUMS and manifest.json appear atomically (a reader never sees a partial file)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     delete=False, encoding="utf-8") as handle:
        handle.write(text)
    os.replace(handle.name, path)


class ArtifactCache:
    """Finished packages keyed by every input of their build."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "artifacts"

    def get(self, key: str) -> tuple[Path, list[Artifact]] | None:
        """The cached artifacts of ``key`` (directory, entries), or None."""
        meta = self.root / key / "meta.json"
        if not meta.is_file():
            return None
        entries = [Artifact(**item) for item in json.loads(meta.read_text())]
        if not all((meta.parent / a.file).is_file() for a in entries):
            return None
        return meta.parent, entries

    def put(self, key: str, files: Sequence[Path], entries: Sequence[Artifact]) -> Path:
        """Store a build's files and entries under ``key`` (all or nothing)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        for path in files:
            shutil.copy2(path, staging / path.name)
        (staging / "meta.json").write_text(json.dumps([asdict(a) for a in entries], indent=1))
        final = self.root / key
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        return final


def publish(out_dir: Path, distro: str, items: Sequence[tuple[Path, Artifact]]) -> Path:
    """Place artifacts in ``out_dir`` (rpm-check ones under rpm-check/), then rewrite
    SHA256SUMS and manifest.json for them; returns the manifest path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(out_dir / "manifest.json")
    placed: list[dict[str, Any]] = []
    for source, artifact in items:
        relative = artifact.file if artifact.kind == "package" else f"rpm-check/{artifact.file}"
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        placed.append({**asdict(artifact), "path": relative})
    keep = {entry["path"] for entry in placed}
    for entry in previous:
        if entry.get("path") not in keep:
            (out_dir / str(entry.get("path"))).unlink(missing_ok=True)
    _write_atomic(out_dir / "SHA256SUMS",
                  "".join(f"{e['sha256']}  {e['path']}\n" for e in placed))
    manifest = {"distro": distro, "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "artifacts": placed}
    _write_atomic(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return out_dir / "manifest.json"


def _read_manifest(path: Path) -> list[dict[str, Any]]:
    try:
        return list(json.loads(path.read_text())["artifacts"])
    except (OSError, ValueError, KeyError):
        return []
