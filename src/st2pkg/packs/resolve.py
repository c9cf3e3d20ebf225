"""Resolve wanted packs to pinned checkouts, following pack.yaml dependencies.

Breadth-first, so everything the spec names is pinned before any dependency is looked at.
A dependency without a ref is satisfied by a pack of that ref already chosen (as st2 does);
the same pack wanted at two different commits is a conflict naming both requesters. A local
directory that is not a git repository is pinned by its content instead of a commit, and its
pack.yaml may name dependencies by paths relative to it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import git
from ..errors import ConfigError, SourceError, suggest
from ..redact import redact_url
from . import localdir
from .index import Index
from .metadata import load_pack_yaml
from .source import PackRequest, local_path, parse_source


@dataclass(frozen=True)
class Want:
    """A request for a pack and who made it (``spec file …`` or ``pack 'x'``)."""

    request: PackRequest
    requester: str


@dataclass(frozen=True)
class ResolvedPack:
    """One pack pinned and copied into the cache. ``commit`` is a git sha, or ``sha256:<hex>``
    of the content for a local directory that is not a git repository."""

    ref: str
    name: str
    version: str
    source: str
    commit: str
    path: Path
    has_requirements: bool
    wanted: str
    requested_by: str


@dataclass(frozen=True)
class _Located:
    url: str
    ref: str | None
    wanted: str
    index_ref: str | None


def _locate(request: PackRequest, index: Index | None, requester: str) -> _Located:
    """Turn an index name into its repo URL and ref; URLs and paths pass through."""
    if request.kind != "index":
        wanted = request.ref or "default branch head"
        return _Located(request.location, request.ref, wanted, None)
    if index is None:
        raise ConfigError(f"{requester}: {request.location!r} is an index name but no pack "
                          "index was given; pass an index or use a git URL or path")
    entry = index.get(request.location)
    if request.ref:
        return _Located(entry.repo_url, request.ref, request.ref, entry.ref)
    return _Located(entry.repo_url, entry.version, f"{entry.version} (index version)",
                    entry.ref)


@dataclass(frozen=True)
class _Pinned:
    """A located pack pinned and copied into the cache. ``deps_dir`` is where its relative
    dependency paths start: only a plain local directory has one."""

    commit: str
    path: Path
    wanted: str
    deps_dir: Path | None = None


class _Resolver:
    def __init__(self, index: Index | None, cache: Path, skip_dependencies: bool) -> None:
        self.index = index
        self.cache = cache
        self.skip_dependencies = skip_dependencies
        self.mirrors: dict[str, Path] = {}
        self.chosen: dict[str, ResolvedPack] = {}

    def run(self, wants: Iterable[Want]) -> tuple[ResolvedPack, ...]:
        queue = deque(wants)
        while queue:
            want = queue.popleft()
            queue.extend(self._one(want))
        return tuple(self.chosen.values())

    def _one(self, want: Want) -> list[Want]:
        request = want.request
        located = _locate(request, self.index, want.requester)
        if request.ref is None and located.index_ref in self.chosen:
            return []
        source = redact_url(located.url)
        pinned = self._pin(located, source, want.requester)
        label = f"{source}@{localdir.short(pinned.commit)}"
        meta = load_pack_yaml(pinned.path, label)
        prior = self.chosen.get(meta.ref)
        if prior is not None:
            if prior.commit == pinned.commit or request.ref is None:
                return []
            raise ConfigError(
                f"pack {meta.ref!r} wanted at {prior.wanted} ({localdir.short(prior.commit)}) "
                f"by {prior.requested_by} and at {pinned.wanted} "
                f"({localdir.short(pinned.commit)}) by {want.requester}; pin one version for "
                "both (or skip dependencies)")
        self.chosen[meta.ref] = ResolvedPack(
            ref=meta.ref, name=meta.name, version=meta.version, source=source,
            commit=pinned.commit, path=pinned.path,
            has_requirements=(pinned.path / "requirements.txt").is_file(),
            wanted=pinned.wanted, requested_by=want.requester)
        if self.skip_dependencies:
            return []
        return [Want(parse_source(dep, None, f"{label}: pack.yaml dependencies[{i}]",
                                  pinned.deps_dir),
                     f"pack {meta.ref!r}")
                for i, dep in enumerate(meta.dependencies)]

    def _pin(self, located: _Located, source: str, requester: str) -> _Pinned:
        """Pin a located pack: a git commit, or the content of a plain local directory."""
        where = local_path(located.url)
        if where is not None:
            if not where.exists():
                raise ConfigError(f"{requester}: {source} does not exist; give an existing "
                                  "pack directory, a git URL or an index name")
            if localdir.is_plain_dir(where):
                if located.ref is not None:
                    raise ConfigError(
                        f"{requester}: {source} is a directory, not a git repository, so "
                        f"ref {located.ref!r} cannot be checked out; drop the ref, or make "
                        "the directory a git repository")
                digest, snapshot = localdir.snapshot(where, self.cache)
                return _Pinned(digest, snapshot, "its content on disk", where)
        repo = self.mirrors.get(located.url)
        if repo is None:
            repo = self.mirrors[located.url] = git.mirror(located.url, self.cache)
        commit = git.resolve_ref(repo, located.ref)
        if commit is None:
            raise self._missing_ref(repo, source, located, requester)
        return _Pinned(commit, git.checkout(repo, commit, self.cache), located.wanted)

    @staticmethod
    def _missing_ref(repo: Path, source: str, located: _Located, requester: str) -> SourceError:
        if located.ref is None:
            return SourceError(f"{source} (wanted by {requester}): the repository has no "
                               "default branch head; give a ref")
        names = git.ref_names(repo)
        return SourceError(
            f"{source} (wanted by {requester}): {located.wanted!r} is not a branch, tag, "
            f"v-prefixed version tag or commit{suggest(located.ref, names)}; "
            f"known: {', '.join(names[:20]) or 'none'}")


def resolve_packs(wants: Iterable[Want], index: Index | None, cache: Path,
                  skip_dependencies: bool = False) -> tuple[ResolvedPack, ...]:
    """Pin every wanted pack (and, unless skipped, its dependencies) to a checked-out commit.

    ``cache`` holds mirrors (``repos/``) and checkouts (``checkouts/<sha>``); pass e.g.
    ``<cache_dir>/packs``. Results are in resolution order, one per pack ref.
    """
    return _Resolver(index, cache, skip_dependencies).run(wants)
