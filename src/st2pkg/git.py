"""The git CLI, always as argv lists: bare mirrors keyed by URL, ref lookup, checkouts by sha.

Used for the st2 source and for packs. Mirrors are fetched by URL on every call and never
store the URL, so credentials in a URL are never written to the cache. Checkouts are keyed by
commit: content-addressed, reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from . import cachejournal
from .errors import SourceError, UnavailableError
from .redact import redact_text, redact_url, secrets_of
from .retry import retrying

_URL = re.compile(r"^(?:https?|ssh|git|git\+ssh|ssh\+git|file)://", re.IGNORECASE)
# scp-like git address: user@host:path (no scheme)
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")
# Where the remote's default branch head is kept inside a mirror.
DEFAULT_HEAD = "refs/st2pkg/HEAD"
# Network fetches get a bound so a silent remote cannot hang a build forever.
_TIMEOUT = 600.0


def is_url(text: str) -> bool:
    """True for strings git treats as a remote address rather than a path or a name."""
    return bool(_URL.match(text) or _SCP.match(text))


# Credentials inside an http(s) URL: user, optional password (or a bare token as user).
_USERINFO = re.compile(r"^(?P<scheme>https?://|file://)(?P<user>[^/@:\s]*)"
                       r"(?::(?P<password>[^/@\s]*))?@(?P<rest>.*)$", re.IGNORECASE)
# Answers git's credential requests from the environment, so no secret is ever in an argv.
_HELPER = ('!f() { test "$1" = get || exit 0; printf "username=%s\\npassword=%s\\n" '
           '"$ST2PKG_GIT_USERNAME" "$ST2PKG_GIT_PASSWORD"; }; f')


def _env(rewrites: Sequence[str] = (), credentials: tuple[str, str] | None = None
         ) -> dict[str, str]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="/bin/false", LC_ALL="C")
    # Fail instead of waiting for a host-key or passphrase prompt nobody can answer.
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    # Extra config goes in the environment, after the user's own: argv is public (ps).
    # git_mirrors rules become url.<mirror>.insteadOf=<prefix>; a URL's credentials are
    # answered by _HELPER alone (the empty value resets the user's helpers for this call).
    config = [(f"url.{rule.partition('=')[2]}.insteadOf", rule.partition("=")[0])
              for rule in rewrites]
    if credentials is not None:
        config += [("credential.helper", ""), ("credential.helper", _HELPER)]
        env["ST2PKG_GIT_USERNAME"], env["ST2PKG_GIT_PASSWORD"] = credentials
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    for key, value in config:
        env[f"GIT_CONFIG_KEY_{count}"], env[f"GIT_CONFIG_VALUE_{count}"] = key, value
        count += 1
    if config:
        env["GIT_CONFIG_COUNT"] = str(count)
    return env


def _without_credentials(args: Sequence[str]) -> tuple[list[str], tuple[str, str] | None]:
    """``args`` with the userinfo of a URL taken out, and the (user, password) it held."""
    out: list[str] = []
    credentials = None
    for arg in args:
        match = _USERINFO.match(arg)
        if match is None:
            out.append(arg)
            continue
        out.append(match["scheme"] + match["rest"])
        if match["scheme"].lower() != "file://":
            credentials = (unquote(match["user"]), unquote(match["password"] or ""))
    return out, credentials


def run(args: Sequence[str], cwd: Path | None = None, what: str = "git",
        check: bool = True, timeout: float | None = _TIMEOUT,
        secrets: tuple[str, ...] = (),
        rewrites: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``git *args``; on failure raise SourceError naming ``what`` with git's own words,
    with URL credentials and ``secrets`` redacted. ``timeout`` None waits as long as git.
    ``rewrites`` are ``prefix=mirror`` URL rules (the ``git_mirrors`` option). Credentials in
    a URL argument reach git through its credential mechanism, never its argv."""
    argv, credentials = _without_credentials(args)
    try:
        done = subprocess.run(["git", *argv], cwd=cwd, env=_env(rewrites, credentials),
                              capture_output=True, text=True, check=False, timeout=timeout)
    except FileNotFoundError as err:
        raise UnavailableError("git is not installed; install it (./bootstrap does)") from err
    except subprocess.TimeoutExpired as err:
        raise SourceError(f"{what}: git {args[0]} gave no result in {timeout:.0f}s") from err
    if check and done.returncode != 0:
        said = _gist(redact_text(done.stderr.strip() or done.stdout.strip(), secrets))
        raise SourceError(f"{what}: git {args[0]} failed: {said}")
    return done


def _gist(text: str) -> str:
    """git's failure in one line: its first fatal:/error: line (the rest is advice), else
    its first line; bounded."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    chosen = next((line for line in lines if line.startswith(("fatal:", "error:"))),
                  lines[0] if lines else "no output")
    return chosen if len(chosen) <= 300 else chosen[:300] + "...(cut)"


# What git says when the network, not the request, failed: worth another try.
_TRANSIENT = re.compile(r"could not resolve host|timed out|connection (?:refused|reset)|"
                        r"early eof|rpc failed|hung up unexpectedly|gave no result|"
                        r"\b5\d\d\b|temporary failure|network is unreachable", re.IGNORECASE)


def transient(error: BaseException) -> bool:
    """Whether a git failure was the network's (retry) rather than the request's."""
    return isinstance(error, SourceError) and bool(_TRANSIENT.search(str(error)))


def mirror(url: str, cache: Path, timeout: float | None = _TIMEOUT,
           rewrites: Sequence[str] = ()) -> Path:
    """Fetch every branch and tag of ``url`` (and its default head) into a bare cached repo
    under ``cache/repos``."""
    what = redact_url(url)
    root = cache / "repos"
    cachejournal.make_dirs(root)
    # Keyed by the redacted URL: the same repository with another token shares one mirror.
    path = root / (hashlib.sha256(what.encode()).hexdigest()[:32] + ".git")
    fetch = ["fetch", "--quiet", "--prune", "--force", "--no-write-fetch-head", url,
             "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", f"+HEAD:{DEFAULT_HEAD}"]
    secrets = secrets_of(url, *rewrites)

    def fetch_into(repo: Path) -> None:
        retrying(lambda: run(fetch, cwd=repo, what=what, timeout=timeout, secrets=secrets,
                             rewrites=rewrites), what=f"fetching {what}", transient=transient)

    if path.exists():
        # Two runs fetching into one mirror at once would fight over its refs.
        with _locked_dir(path):
            fetch_into(path)
        return path
    # A first fetch fills a scratch repository: a URL that fails leaves no mirror behind.
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        run(["init", "--quiet", "--bare", str(tmp)], what=what)
        fetch_into(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if publish(tmp, path):
        cachejournal.record(path)
    return path


@contextmanager
def _locked_dir(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on directory ``path`` itself (no lock file beside it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def fetch_commit(repo: Path, url: str, ref: str | None,
                 rewrites: Sequence[str] = ()) -> str | None:
    """Fetch a commit no branch or tag points at (a pull request's head, say) by its sha;
    its full sha, or None when ``ref`` is no sha or the remote does not have it."""
    if ref is None or not _HEX.match(ref):
        return None
    run(["fetch", "--quiet", "--no-write-fetch-head", url, ref], cwd=repo, what=redact_url(url),
        check=False, timeout=None, secrets=secrets_of(url, *rewrites), rewrites=rewrites)
    return resolve_ref(repo, ref)


def resolve_ref(repo: Path, ref: str | None) -> str | None:
    """Full sha for ``ref``: tag, branch, ``v``-prefixed semver tag, then (short) commit sha.

    ``None`` means the remote's default branch head. Returns None when nothing matches.
    """
    if ref is None:
        candidates = [DEFAULT_HEAD]
    else:
        # Tags first: they name releases and, unlike branches, do not move.
        candidates = [f"refs/tags/{ref}", f"refs/heads/{ref}"]
        if _SEMVER.match(ref):
            candidates.append(f"refs/tags/v{ref}")
        if _HEX.match(ref):
            candidates.append(ref)
    for name in candidates:
        done = run(["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], cwd=repo,
                   check=False)
        if done.returncode == 0:
            return done.stdout.strip()
    return None


def ref_names(repo: Path) -> list[str]:
    """Branch and tag names of a mirror, for did-you-mean hints."""
    out = run(["for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags"],
              cwd=repo).stdout
    return out.split()


def checkout(repo: Path, commit: str, cache: Path) -> Path:
    """A work tree of ``commit`` under ``cache/checkouts/<sha>``, made once then reused."""
    root = cache / "checkouts"
    cachejournal.make_dirs(root)
    dest = root / commit
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        run(["clone", "--quiet", "--no-checkout", str(repo), str(tmp)], what=commit)
        run(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit],
            cwd=tmp, what=commit)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if publish(tmp, dest):
        cachejournal.record(dest)
    return dest


def publish(tmp: Path, dest: Path) -> bool:
    """Move a finished directory into place; if a parallel run won the race, keep theirs.
    Whether ours is the one in place."""
    try:
        tmp.rename(dest)
    except OSError:
        if not dest.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    return True
