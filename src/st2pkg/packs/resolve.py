"""Resolve wanted packs to pinned checkouts, following pack.yaml dependencies.

Breadth-first, so everything the spec names is pinned before any dependency is looked at.
The rules: the same request made twice is one request; a dependency without a ref is
satisfied by a pack of that ref already chosen (as st2 does); otherwise one pack at two
commits is a conflict naming both requesters, whatever their sources; a dependency cycle is
an error showing its path. An index name's version (its own, or one its ``versions`` lists)
is the tag of that version, ``X.Y.Z`` or ``vX.Y.Z``. A local directory that is not a git
repository is pinned by its content instead of a commit, and its pack.yaml may name
dependencies by paths relative to it. A run that fails validation leaves the cache as it
found it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import cachejournal, git
from ..errors import ConfigError, SourceError, suggest
from ..redact import redact_url
from . import localdir
from .cycles import find_cycle
from .index import Index
from .metadata import load_pack_yaml
from .source import PackRequest, local_path, parse_source

_VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class Want:
    """A request for a pack and who made it (``spec file …`` or ``pack 'x'``)."""

    request: PackRequest
    requester: str
    parent: str | None = None  # the pack whose pack.yaml asked; None for the spec
    # The file and field that asked (``spec.yml: pack_image.packs[0].pack``), for errors.
    field: str | None = None

    @property
    def origin(self) -> str:
        """What an error about this request starts with: its field, else its requester."""
        return self.field or self.requester


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
    tag_only: bool = False


def _locate(request: PackRequest, index: Index | None, origin: str) -> _Located:
    """Turn an index name into its repo URL and ref; URLs and paths pass through."""
    if request.kind != "index":
        wanted = request.ref or "default branch head"
        return _Located(request.location, request.ref, wanted, None)
    if index is None:
        raise ConfigError(f"{origin}: {request.location!r} is an index name but no pack "
                          "index was given; pass an index or use a git URL or path")
    entry = index.get(request.location, origin)
    if request.ref:
        listed = request.ref.removeprefix("v") in (entry.version, *entry.versions)
        return _Located(entry.repo_url, request.ref, request.ref, entry.ref, listed)
    return _Located(entry.repo_url, entry.version, f"{entry.version} (index version)",
                    entry.ref, True)


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
        self.seen: dict[PackRequest, str] = {}
        self.needs: dict[str, list[str]] = {}

    def run(self, wants: Iterable[Want]) -> tuple[ResolvedPack, ...]:
        queue = deque(wants)
        while queue:
            want = queue.popleft()
            ref = self.seen.get(want.request)
            if ref is None:
                queue.extend(self._one(want))
            else:
                self._need(want, ref)
        cycle = find_cycle(self.needs)
        if cycle:
            raise ConfigError(f"pack dependency cycle: {' -> '.join(cycle)}; remove one of "
                              "these dependencies from its pack.yaml")
        return tuple(self.chosen.values())

    def _need(self, want: Want, ref: str) -> None:
        if want.parent is not None:
            self.needs.setdefault(want.parent, []).append(ref)

    def _one(self, want: Want) -> list[Want]:
        request = want.request
        located = _locate(request, self.index, want.origin)
        # Only a dependency is satisfied by whatever was chosen: a spec entry is exact.
        lenient = want.parent is not None and request.ref is None
        if lenient and located.index_ref in self.chosen:
            self._need(want, str(located.index_ref))
            return []
        source = redact_url(located.url)
        pinned = self._pin(located, source, want.origin)
        label = f"{source}@{localdir.short(pinned.commit)}"
        meta = load_pack_yaml(pinned.path, f"{want.origin}: {label}")
        self.seen[request] = meta.ref
        self._need(want, meta.ref)
        prior = self.chosen.get(meta.ref)
        if prior is not None:
            if prior.commit == pinned.commit or lenient:
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
        wants = []
        for i, dep in enumerate(meta.dependencies):
            at = f"{label}: pack.yaml dependencies[{i}]"
            wants.append(Want(parse_source(dep, None, at, pinned.deps_dir), f"pack {meta.ref!r}",
                              meta.ref, at))
        return wants

    def _pin(self, located: _Located, source: str, origin: str) -> _Pinned:
        """Pin a located pack: a git commit, or the content of a plain local directory."""
        where = local_path(located.url)
        if where is not None:
            if not where.exists():
                raise ConfigError(f"{origin}: {source} does not exist; give an existing "
                                  "pack directory, a git URL or an index name")
            if not where.is_dir():
                raise ConfigError(f"{origin}: {source} is not a directory; a local pack is "
                                  "a directory holding pack.yaml, so name the directory")
            if localdir.is_plain_dir(where):
                if located.ref is not None:
                    raise ConfigError(
                        f"{origin}: {source} is a directory, not a git repository, so "
                        f"ref {located.ref!r} cannot be checked out; drop the ref, or make "
                        "the directory a git repository")
                if not (where / "pack.yaml").is_file():
                    raise ConfigError(f"{origin}: {source} is not a pack: it has no pack.yaml "
                                      "file at its top; a local pack is a directory holding "
                                      "pack.yaml")
                digest, snapshot = localdir.snapshot(where, self.cache, origin)
                return _Pinned(digest, snapshot, "its content on disk", where)
        repo = self.mirrors.get(located.url)
        if repo is None:
            try:
                repo = self.mirrors[located.url] = git.mirror(located.url, self.cache)
            except SourceError as err:
                raise SourceError(f"{origin}: {err}") from err
        commit = (_version_tag(repo, str(located.ref)) if located.tag_only
                  else git.resolve_ref(repo, located.ref))
        if commit is None:
            raise self._missing_ref(repo, source, located, origin)
        return _Pinned(commit, git.checkout(repo, commit, self.cache), located.wanted)

    @staticmethod
    def _missing_ref(repo: Path, source: str, located: _Located, origin: str) -> SourceError:
        if located.ref is None:
            return SourceError(f"{origin}: {source}: the repository has no "
                               "default branch head; give a ref")
        if located.tag_only:
            version = str(located.ref).removeprefix("v")
            tags = git.run(["for-each-ref", "--format=%(refname:short)", "refs/tags"],
                           cwd=repo).stdout.split()
            return SourceError(
                f"{origin}: {source}: the index lists version {version} but the "
                f"repository has no tag {version} or v{version}; pick a version it has "
                f"(tags: {', '.join(t for t in tags if _VERSION_TAG.match(t)) or 'none'})")
        names = git.ref_names(repo)
        return SourceError(
            f"{origin}: {source}: {located.wanted!r} is not a branch, tag, "
            f"v-prefixed version tag or commit{suggest(located.ref, names)}; "
            f"known: {', '.join(names[:20]) or 'none'}")


def _version_tag(repo: Path, version: str) -> str | None:
    """The commit of the tag of an index version: ``X.Y.Z`` else ``vX.Y.Z`` (never a branch
    that happens to share the name)."""
    bare = version.removeprefix("v")
    for name in (f"refs/tags/{bare}", f"refs/tags/v{bare}"):
        done = git.run(["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], cwd=repo,
                       check=False)
        if done.returncode == 0:
            return done.stdout.strip()
    return None


def resolve_packs(wants: Iterable[Want], index: Index | None, cache: Path,
                  skip_dependencies: bool = False) -> tuple[ResolvedPack, ...]:
    """Pin every wanted pack (and, unless skipped, its dependencies) to a checked-out commit.

    ``cache`` holds mirrors (``repos/``), checkouts (``checkouts/<sha>``) and snapshots;
    pass e.g. ``<cache_dir>/packs``. Results are in resolution order, one per pack ref. On
    bad input (exit 2) whatever this run added to the cache is removed again.
    """
    with cachejournal.undone_on_bad_input():
        return _Resolver(index, cache, skip_dependencies).run(wants)
