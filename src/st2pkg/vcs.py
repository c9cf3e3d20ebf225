"""VCS requirements (``name @ git+URL@ref``, ``-e git+URL@ref#egg=name``) of a requirement set.

st2 names orquesta, logshipper and its auth and RBAC backends this way. pip on a build node
would clone them from their git host, which a node may not reach; so the host fetches each
through the same source cache as the st2 source (the user's git config, its ``insteadOf``
rules and credential helpers apply, plus the ``git_mirrors`` option), resolves it to a commit,
and the wheelhouse builds it from the uploaded tree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from . import git
from .errors import SourceError
from .redact import redact_url

_EDITABLE = re.compile(r"^(?:-e|--editable)\s+")
_NAMED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?\s*@\s*"
                    r"(?P<url>git\+\S+)$")
# PEP 508: a URL requirement's marker follows whitespace and a semicolon.
_MARKER = re.compile(r"\s+;\s*")


@dataclass(frozen=True)
class VcsRequirement:
    """One requirement line that names a git repository."""

    name: str
    url: str
    ref: str | None
    extras: str = ""
    subdirectory: str | None = None
    marker: str = ""

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)

    @property
    def key(self) -> str:
        """The normalised project name (PEP 503)."""
        return normalise(self.name)

    def line(self, target: str) -> str:
        """This requirement as a requirements line with another ``target`` (``==1.0``,
        ``@ file://…``, ``@ <commit>``) in place of its git URL; extras and marker kept."""
        extras = f"[{self.extras}]" if self.extras else ""
        marker = f" ; {self.marker}" if self.marker else ""
        return f"{self.name}{extras}{target}{marker}"


@dataclass(frozen=True)
class ResolvedVcs:
    """A VCS requirement fetched into the source cache and pinned to one commit."""

    req: VcsRequirement
    commit: str
    repo: Path

    def archive(self, dest: Path) -> Path:
        """The commit's tree (the requirement's subdirectory only, when it names one)."""
        sub = [f"{self.commit}:{self.req.subdirectory}"] if self.req.subdirectory else [self.commit]
        git.run(["archive", "--format=tar", f"--output={dest}", *sub], cwd=self.repo,
                what=self.req.shown_url)
        return dest

    def record(self) -> dict[str, str]:
        """What the manifest says of it (URL redacted)."""
        return {"name": self.req.name, "url": self.req.shown_url, "ref": self.req.ref or "HEAD",
                "commit": self.commit}


@dataclass(frozen=True)
class Requirements:
    """A recipe's requirement set: plain requirement lines plus resolved VCS requirements."""

    plain: tuple[str, ...]
    vcs: tuple[ResolvedVcs, ...] = ()

    def key_text(self) -> str:
        """Text that changes whenever what gets installed can change: the plain lines and each
        VCS requirement's commit (a moved branch changes it, an unchanged one does not)."""
        pinned = [v.req.line(f" @ {v.commit}") for v in self.vcs]
        return "\n".join([*self.plain, *sorted(pinned)]) + "\n"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(line: str) -> VcsRequirement | None:
    """The VCS requirement a requirements line names, or None for any other line."""
    parts = _MARKER.split(line.strip(), maxsplit=1)
    text, marker = parts[0], (parts[1] if len(parts) > 1 else "")
    editable = _EDITABLE.match(text)
    if editable:
        text = text[editable.end():]
    named = _NAMED.match(text)
    if named:
        name, extras, url = named["name"], named["extras"] or "", named["url"]
    elif text.startswith("git+"):
        name, extras, url = "", "", text
    else:
        return None
    url, ref, fragment = _split_url(url[len("git+"):])
    egg = fragment.get("egg", [""])[0]
    name = name or egg
    if not name:
        raise SourceError(f"requirement {redact_url(line.strip())!r} names no project: "
                          "write it as 'name @ git+URL@ref' or add '#egg=name'")
    sub = fragment.get("subdirectory", [None])[0]
    return VcsRequirement(name, url, ref, extras, sub, marker.strip())


def _split_url(url: str) -> tuple[str, str | None, dict[str, list[str]]]:
    """``URL@ref#frag`` -> (URL, ref, fragment fields). The ref's ``@`` is the last one in the
    path, so credentials (``user:token@host``) stay part of the URL."""
    parts = urlsplit(url)
    path, ref = parts.path, None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
    plain = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return plain, ref or None, parse_qs(parts.fragment)


def split(lines: Sequence[str]) -> tuple[list[str], list[VcsRequirement]]:
    """Plain requirement lines and VCS requirements of a requirement set."""
    plain: list[str] = []
    found: list[VcsRequirement] = []
    for line in lines:
        if not line.strip():
            continue
        req = parse(line)
        if req is None:
            plain.append(line.strip())
        else:
            found.append(req)
    return plain, found


def resolve(text: str, cache_dir: Path, rewrites: Sequence[str] = ()) -> Requirements:
    """Fetch every VCS requirement of ``text`` into the source cache and pin it to a commit."""
    plain, found = split(text.splitlines())
    seen: dict[str, ResolvedVcs] = {}
    for req in found:
        repo = git.mirror(req.url, cache_dir / "sources", timeout=None, rewrites=rewrites)
        commit = git.resolve_ref(repo, req.ref) or git.fetch_commit(repo, req.url, req.ref,
                                                                    rewrites)
        if commit is None:
            raise SourceError(f"requirement {req.name}: {req.ref!r} is not a branch, tag or "
                              f"commit of {req.shown_url}; fix the requirement line or the "
                              "mirror it is fetched from")
        other = seen.get(req.key)
        if other is not None and other.commit != commit:
            raise SourceError(f"requirement {req.name} is wanted at two commits "
                              f"({other.commit[:12]} and {commit[:12]}); pin one ref")
        seen[req.key] = ResolvedVcs(req, commit, repo)
    return Requirements(tuple(plain), tuple(seen[k] for k in sorted(seen)))
