"""The st2 source: fetched on the host into a content cache, resolved to one commit,
exported as a tarball for the build node. URLs are redacted in every message."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError
from .redact import redact_text, redact_url

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
        text = self._git("show", f"{self.commit}:{VERSION_FILE}")
        match = _VERSION.search(text)
        if not match:
            raise SourceError(f"{self.shown_url}@{self.rev}: no __version__ in {VERSION_FILE}; "
                              "set ST2PKG_VERSION")
        return match.group(1)

    def archive(self, dest: Path) -> Path:
        """Write the commit's tree as a tar file (no .git) to ``dest``."""
        _git(self.repo, self.url, "archive", "--format=tar", f"--output={dest}", self.commit)
        return dest

    def _git(self, *args: str) -> str:
        return _git(self.repo, self.url, *args)


def _git(repo: Path, url: str, *args: str) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false",
           "LC_ALL": "C"}
    proc = subprocess.run(["git", f"--git-dir={repo}", *args], env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        detail = redact_text(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                             else f"exit {proc.returncode}", secrets=(url,))
        raise SourceError(f"git {args[0]} failed for {redact_url(url)}: {detail}")
    return proc.stdout


def _normalise(url: str) -> str:
    """Local paths become absolute file paths git can fetch from."""
    if "://" in url or re.match(r"^[\w.-]+@[\w.-]+:", url):
        return url
    return str(Path(url).expanduser().resolve())


def fetch(url: str, rev: str, cache_dir: Path) -> Source:
    """Fetch ``url`` into the cache and resolve ``rev`` (branch, tag or sha) to a commit."""
    url = _normalise(url)
    repo = cache_dir / "sources" / (hashlib.sha256(url.encode()).hexdigest()[:16] + ".git")
    if not (repo / "HEAD").exists():
        repo.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
    # No remote is configured: credentials in the URL are never written to the cache.
    _git(repo, url, "fetch", "--quiet", "--prune", "--force", url,
         "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
    commit = _resolve(repo, url, rev)
    if commit is None and re.fullmatch(r"[0-9a-f]{7,40}", rev):
        try:  # a commit no branch or tag points at (e.g. a pull request's head)
            _git(repo, url, "fetch", "--quiet", url, rev)
            commit = _resolve(repo, url, rev)
        except SourceError:
            commit = None
    if commit is None:
        raise SourceError(f"ST2_GITREV {rev!r} is not a branch, tag or commit of "
                          f"{redact_url(url)}; pick an existing ref")
    tree = _git(repo, url, "rev-parse", f"{commit}^{{tree}}").strip()
    return Source(url, rev, commit, tree, repo)


def _resolve(repo: Path, url: str, rev: str) -> str | None:
    for candidate in (f"refs/heads/{rev}", f"refs/tags/{rev}", rev):
        try:
            return _git(repo, url, "rev-parse", "--verify", "--quiet",
                        f"{candidate}^{{commit}}").strip()
        except SourceError:
            continue
    return None
