"""Pack source strings: an index name, a git URL, a file:// URL or a local path, plus a ref."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ..errors import ConfigError
from ..git import is_url
from ..redact import redact_url

Kind = Literal["index", "git", "path"]

_INDEX_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# A conservative subset of git's ref-name rules; it also keeps refs from looking like options.
_REF = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/+-]+(?<![./])$")


@dataclass(frozen=True)
class PackRequest:
    """One wanted pack: where it comes from and which ref (None = the default for its kind).

    ``location`` is an index name, a git URL with any credentials intact (only ever handed to
    git) or an absolute path; use ``display`` for anything printed.
    """

    kind: Kind
    location: str
    ref: str | None

    @property
    def display(self) -> str:
        """The location with credentials redacted, as users write it (``name=ref``)."""
        where = redact_url(self.location)
        return f"{where}={self.ref}" if self.ref else where


def local_path(location: str) -> Path | None:
    """The directory a path or ``file://`` URL names; None for remote addresses."""
    if location.lower().startswith("file://"):
        parsed = urlsplit(location)
        return Path(url2pathname(parsed.path)) if parsed.netloc in ("", "localhost") else None
    return None if is_url(location) else Path(location)


def parse_source(text: str, ref: str | None, where: str, base_dir: Path | None) -> PackRequest:
    """Parse ``pack`` (optionally ``pack=ref``) plus an optional separate ``ref``.

    ``where`` names the file and field for error messages. Relative paths are taken from
    ``base_dir`` (the spec file's directory); ``None`` means they are not allowed there.
    """
    text = text.strip()
    if not text:
        raise ConfigError(f"{where}: must name a pack (index name, git URL or path)")
    location, inline_ref = text, None
    if "=" in text:
        location, _, inline_ref = text.rpartition("=")
        if not inline_ref or not location:
            raise ConfigError(f"{where}: {redact_url(text)!r} must be NAME=REF with both parts")
    if inline_ref and ref and inline_ref != ref:
        raise ConfigError(f"{where}: ref {inline_ref!r} in the pack string disagrees with "
                          f"ref {ref!r}; give the ref once")
    ref = inline_ref or ref
    if ref is not None and not _REF.match(ref):
        raise ConfigError(f"{where}: ref {ref!r} is not a valid branch, tag or commit name")
    if is_url(location):
        return PackRequest("git", location, ref)
    if "/" in location or location.startswith("~") or location in (".", ".."):
        path = Path(location).expanduser()
        if not path.is_absolute():
            if base_dir is None:
                raise ConfigError(f"{where}: relative path {location!r} is not allowed here; "
                                  "use an absolute path, a file:// URL or a git URL")
            path = base_dir / path
        return PackRequest("path", str(path.resolve()), ref)
    if not _INDEX_NAME.match(location):
        raise ConfigError(f"{where}: {location!r} is not an index name, a git URL "
                          "(https://, ssh://, git://, user@host:path, file://) or a path")
    return PackRequest("index", location, ref)
