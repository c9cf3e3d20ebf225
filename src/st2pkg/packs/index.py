"""Pack indexes: JSON files of packs by ref, read from URLs or paths, merged first-wins."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import http
from ..errors import ConfigError, SourceError, suggest
from ..redact import redact_url
from .metadata import SEMVER

# st2's search (st2common services/packs.py, case-insensitive as st2api calls it): fields
# never searched, and the fields whose matches rank first, in this order.
_EXCLUDE = ("repo_url", "email")
_PRIORITY = ("name", "keywords")
# Exchange entries nest three levels (content.actions.count); anything far deeper is no index
# data, and printing or searching it would recurse.
_MAX_DEPTH = 16


@dataclass(frozen=True)
class IndexEntry:
    """One pack as an index describes it. ``index`` is where it came from (redacted)."""

    ref: str
    name: str
    version: str
    repo_url: str
    author: str
    description: str
    keywords: tuple[str, ...]
    versions: tuple[str, ...]
    content: tuple[tuple[str, int], ...]
    index: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


def _read(location: str, shown: str) -> bytes:
    try:
        parts = urlsplit(location)
    except ValueError as err:
        raise ConfigError(f"pack index {shown}: not a valid URL ({err}); check it") from err
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return http.get(location, what=f"pack index {shown}")
    if scheme == "file":
        return Path(urllib.request.url2pathname(parts.path)).read_bytes()
    if scheme and len(scheme) > 1:
        raise ConfigError(f"pack index {shown}: unsupported URL scheme "
                          f"{scheme!r}; use http(s)://, file:// or a path")
    return Path(location).expanduser().read_bytes()


def _field(where: str, entry: dict[str, Any], key: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise ConfigError(f"{where}: field '{key}' must be a non-empty string")
    return value


def repo_url(url: str) -> str:
    """A repo_url as st2 reads it: ``owner/repo`` is a GitHub repository."""
    if url.count("/") == 1 and "://" not in url and "@" not in url:
        return f"https://github.com/{url}"
    return url


def _depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (0 for a scalar), without recursing."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            if deepest > _MAX_DEPTH:
                break
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _entry(where: str, ref: str, raw: Any, index: str) -> IndexEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping of fields")
    if _depth(raw) > _MAX_DEPTH:
        raise ConfigError(f"{where}: nested too deeply (more than {_MAX_DEPTH} levels); this "
                          "is no pack index entry, check the index")
    keywords = raw.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ConfigError(f"{where}: field 'keywords' must be a list of strings")
    # Indexes carry `versions` as a list or as a mapping keyed by version; keep the names.
    versions = raw.get("versions", [])
    if not isinstance(versions, list | dict) or not all(isinstance(v, str) for v in versions):
        raise ConfigError(f"{where}: field 'versions' must list version strings")
    content = raw.get("content", {})
    if not isinstance(content, dict):
        raise ConfigError(f"{where}: field 'content' must be a mapping")
    counts = tuple(
        (str(kind), count if isinstance(count, int) else 0)
        for kind, count in sorted(
            (kind, info.get("count") if isinstance(info, dict) else 0)
            for kind, info in content.items())
    )
    version = _field(where, raw, "version")
    if not SEMVER.match(version):
        raise ConfigError(f"{where}: field 'version' is not a semver version X.Y.Z "
                          f"({clip(version)!r}); check the index")
    return IndexEntry(
        ref=ref,
        name=_field(where, raw, "name", ref),
        version=version,
        repo_url=repo_url(_field(where, raw, "repo_url")),
        author=_field(where, raw, "author", ""),
        description=_field(where, raw, "description", ""),
        keywords=tuple(keywords),
        versions=tuple(versions),
        content=counts,
        index=index,
        raw=raw,
    )


def clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters, marked as cut: index data is not ours to bound."""
    return text if len(text) <= limit else text[:limit] + "...(cut)"


def load_index(location: str) -> dict[str, IndexEntry]:
    """Read one index (http(s) URL, file:// URL or path): its packs by ref."""
    shown = redact_url(location)
    try:
        data = json.loads(_read(location, shown))
    except OSError as err:
        reason = redact_url(err.strerror or str(err))
        raise SourceError(f"pack index {shown}: cannot be read ({reason}); "
                          "check the path, or pass another index") from err
    except ValueError as err:  # bad JSON, bad UTF-8, or a number past Python's digit limit
        raise ConfigError(f"pack index {shown}: not valid JSON ({clip(str(err), 120)}); check "
                          "that it names a pack index file (JSON with a 'packs' mapping)") from err
    except RecursionError as err:
        raise ConfigError(f"pack index {shown}: nested too deeply to read; check that it "
                          "names a pack index file (JSON with a 'packs' mapping)") from err
    packs = data.get("packs") if isinstance(data, dict) else None
    if not isinstance(packs, dict):
        raise ConfigError(f"pack index {shown}: must be a JSON object with a 'packs' mapping")
    return {str(ref): _entry(f"pack index {shown}: packs.{clip(ref)}", str(ref), raw, shown)
            for ref, raw in packs.items()}


class Index:
    """Several indexes merged: on the same ref, the first listed index wins."""

    def __init__(self, locations: Sequence[str]) -> None:
        self.locations = tuple(locations)
        self._entries: dict[str, IndexEntry] | None = None

    @property
    def entries(self) -> dict[str, IndexEntry]:
        """The merged entries, read on first use: a spec of git URLs and paths reads no
        index (so an unreachable default index does not matter to it)."""
        if self._entries is None:
            # As st2 merges: the last listed first, each later one overwriting, so the first
            # listed wins and the order of packs (which search keeps) is st2's too.
            merged: dict[str, IndexEntry] = {}
            for location in reversed(self.locations):
                merged.update(load_index(location))
            self._entries = merged
        return self._entries

    def get(self, name: str, origin: str | None = None) -> IndexEntry:
        """The pack whose ref (else name) is ``name``, or a ConfigError with a hint that
        starts with ``origin`` (the file and field asking) when given."""
        if name in self.entries:
            return self.entries[name]
        for entry in self.entries.values():
            if entry.name == name:
                return entry
        where = ", ".join(redact_url(loc) for loc in self.locations) or "no index given"
        prefix = f"{origin}: " if origin else ""
        raise ConfigError(f"{prefix}pack {clip(name)!r} is in no pack index ({where})"
                          f"{suggest(name, self.entries)}; check the name or add an index")

    def search(self, query: str) -> list[IndexEntry]:
        """st2's pack search: each pack ranks by the first of its fields (in index order)
        that matches, name first, then keywords, then any other; index order within a rank."""
        needle = query.lower()
        if not needle.strip():
            raise ConfigError("pack search: the query is empty; give part of a name or keyword")
        ranks: list[list[IndexEntry]] = [[] for _ in range(len(_PRIORITY) + 1)]
        for entry in self.entries.values():
            for key, value in entry.raw.items():
                if key not in _EXCLUDE and _matches(needle, value):
                    ranks[_PRIORITY.index(key) if key in _PRIORITY else -1].append(entry)
                    break
        return [entry for rank in ranks for entry in rank]


def _matches(needle: str, value: Any) -> bool:
    """st2's test: a substring of a string, an item of a list, a key of a mapping; any other
    value as its str()."""
    if isinstance(value, list):
        return needle in [str(item).lower() for item in value]
    if isinstance(value, dict):
        return needle in [str(key).lower() for key in value]
    return needle in (value if isinstance(value, str) else str(value)).lower()
