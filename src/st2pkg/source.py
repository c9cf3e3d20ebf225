"""The st2 source: fetched on the host into a content cache, resolved to one commit,
exported as a tarball for the build node. URLs are redacted in every message."""

from __future__ import annotations

import fnmatch
import re
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import git
from .errors import SourceError
from .redact import redact_url, secrets_of

_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)
VERSION_FILE = "st2common/st2common/__init__.py"


@dataclass(frozen=True)
class Source:
    """One resolved revision of the st2 source."""

    url: str
    rev: str
    commit: str
    tree: str
    repo: Path

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)

    def version(self) -> str:
        """``__version__`` of st2common at this commit."""
        if not self._has(VERSION_FILE):
            raise SourceError(f"ST2_GITURL {self.shown_url}@{self.rev}: not an st2 source (it "
                              f"has no {VERSION_FILE}); point ST2_GITURL at StackStorm's st2 "
                              "repository, or build --package=st2client")
        text = self._git("show", f"{self.commit}:{VERSION_FILE}")
        match = _VERSION.search(text)
        if not match:
            raise SourceError(f"{self.shown_url}@{self.rev}: no __version__ in {VERSION_FILE}; "
                              "set ST2PKG_VERSION")
        return match.group(1)

    def _has(self, path: str) -> bool:
        done = git.run(["cat-file", "-e", f"{self.commit}:{path}"], cwd=self.repo, check=False)
        return done.returncode == 0

    def commit_time(self) -> int:
        """The commit's committer date (seconds since the epoch)."""
        return int(self._git("show", "-s", "--format=%ct", self.commit).strip())

    def export(self, dest: Path, patterns: Sequence[str]) -> Path:
        """Unpack into ``dest`` the files of the commit whose paths match one of
        ``patterns`` (``*`` stays within one directory level)."""
        names = self._git("ls-tree", "-r", "--name-only", "-z", self.commit).split("\0")
        chosen = [n for n in names if n and any(_matches(n, p) for p in patterns)]
        dest.mkdir(parents=True, exist_ok=True)
        if chosen:
            tar = dest.with_name(dest.name + ".tar")
            self._git("archive", "--format=tar", f"--output={tar}", self.commit, "--", *chosen)
            with tarfile.open(tar) as archive:
                archive.extractall(dest, filter="data")
            tar.unlink()
        return dest

    def archive(self, dest: Path) -> Path:
        """Write the commit's tree as a tar file (no .git) to ``dest``."""
        self._git("archive", "--format=tar", f"--output={dest}", self.commit)
        return dest

    def _git(self, *args: str) -> str:
        return _git(self.repo, self.url, *args)


def _matches(name: str, pattern: str) -> bool:
    parts, wanted = name.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=True))


def _git(repo: Path, url: str, *args: str, check: bool = True) -> str:
    done = git.run(args, cwd=repo, what=f"ST2_GITURL {redact_url(url)}", check=check,
                   timeout=None, secrets=secrets_of(url))
    return done.stdout if done.returncode == 0 else ""


def _normalise(url: str) -> str:
    """Local paths become absolute file paths git can fetch from."""
    if git.is_url(url):
        return url
    return str(Path(url).expanduser().resolve())


def fetch(url: str, rev: str, cache_dir: Path, rewrites: Sequence[str] = ()) -> Source:
    """Fetch ``url`` into the cache and resolve ``rev`` (branch, tag or sha) to a commit.
    ``rewrites`` are the ``git_mirrors`` option's ``prefix=mirror`` rules."""
    url = _normalise(url)
    # A large repository on a slow link: no time bound, as with a plain git clone.
    try:
        repo = git.mirror(url, cache_dir / "sources", timeout=None, rewrites=rewrites)
    except SourceError as err:
        raise SourceError(f"ST2_GITURL: {err}; check the URL (or path) and your access to it"
                          ) from err
    commit = _resolve(repo, url, rev)
    if commit is None and git.fetch_commit(repo, url, rev, rewrites):
        commit = _resolve(repo, url, rev)
    if commit is None:
        raise SourceError(f"ST2_GITREV {rev!r} is not a branch, tag or commit of "
                          f"{redact_url(url)}; pick an existing ref")
    tree = _git(repo, url, "rev-parse", f"{commit}^{{tree}}").strip()
    return Source(url, rev, commit, tree, repo)


def _resolve(repo: Path, url: str, rev: str) -> str | None:
    """Branches first, then tags, then a (short) commit sha."""
    for candidate in (f"refs/heads/{rev}", f"refs/tags/{rev}", rev):
        found = _git(repo, url, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}",
                     check=False).strip()
        if found:
            return found
    return None
