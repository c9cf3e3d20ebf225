"""What the ``packs.*`` tasks do, callable without invoke: plain rows in, plain rows out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..containers import Docker
from ..engine import Engine
from ..errors import ConfigError
from ..redact import redact_url
from . import localdir
from .image import build_images, check_bases
from .index import Index
from .resolve import ResolvedPack, Want, resolve_packs
from .spec import Spec, load_spec


def _index(indexes: Sequence[str]) -> Index:
    if not indexes:
        raise ConfigError("no pack index given; pass one or more index URLs or paths "
                          "(http(s)://…/index.json, file://…, ./index.json)")
    return Index(indexes)


def search(query: str, indexes: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """Rows (ref, version, author, description) of matching packs, best matches first."""
    index = _index(indexes)
    return [(e.ref, e.version, e.author, e.description) for e in index.search(query)]


def show(name: str, indexes: Sequence[str]) -> list[tuple[str, str]]:
    """(field, value) rows of one pack: every field the index gives, in its order (as st2's
    ``packs.show_remote`` returns the entry), URLs redacted, then the index it came from."""
    entry = _index(indexes).get(name)
    return [(key, _shown(key, value)) for key, value in entry.raw.items()] + [
        ("index", entry.index)]


def _shown(key: str, value: Any) -> str:
    if key == "content" and isinstance(value, dict):
        return ", ".join(f"{kind} {info.get('count', 0) if isinstance(info, dict) else 0}"
                         for kind, info in sorted(value.items()))
    if isinstance(value, list | dict):
        return ", ".join(str(item) for item in value)
    text = "" if value is None else str(value)
    return redact_url(text) if key == "repo_url" else text


def resolve(spec_path: Path, indexes: Sequence[str], cache_dir: Path,
            skip_dependencies: bool = False) -> tuple[Spec, tuple[ResolvedPack, ...]]:
    """Validate the spec and pin its packs (plus dependencies) under ``cache_dir/packs``.

    ``indexes`` may be empty when every pack (and dependency) is a git URL or path. Bad
    input leaves the cache as it was.
    """
    spec = load_spec(spec_path)
    return spec, _pin_packs(spec, indexes, cache_dir, skip_dependencies)


def _pin_packs(spec: Spec, indexes: Sequence[str], cache_dir: Path,
         skip_dependencies: bool) -> tuple[ResolvedPack, ...]:
    index = _index(indexes) if indexes else None
    wants = [Want(entry.request, f"spec {entry.where}", field=f"{entry.where}.pack")
             for entry in spec.packs]
    return resolve_packs(wants, index, cache_dir / "packs", skip_dependencies)


def build(spec_path: Path, indexes: Sequence[str], cache_dir: Path, reports: Path,
          skip_dependencies: bool = False, busybox: Path | None = None,
          log: Callable[[str], None] = print, engine: Engine | None = None) -> list[str]:
    """Resolve the spec's packs and build one image per base tag; returns the image tags.

    The bases are checked (present or pullable) before any pack is fetched. Each image's
    JSON report goes to ``reports``. ``busybox`` is a static busybox binary; None fetches
    Debian's busybox-static once. ``engine`` None connects to the one the environment names.
    """
    spec = load_spec(spec_path)
    docker_ = engine or Docker.from_env()
    check_bases(docker_, spec)
    packs = _pin_packs(spec, indexes, cache_dir, skip_dependencies)
    for row in rows(packs):
        log("pack {} {} at {} from {} (wanted by {})".format(*row))
    return build_images(docker_, spec, packs, cache_dir / "packs", busybox, reports, log)


def rows(packs: Sequence[ResolvedPack]) -> list[tuple[str, str, str, str, str]]:
    """Rows (ref, version, commit, source, wanted-by) for printing a resolution."""
    return [(p.ref, p.version, localdir.short(p.commit), p.source, p.requested_by) for p in packs]
