"""git against a real (dumb) HTTP git server on 127.0.0.1: a URL's credentials reach git
through its credential mechanism, never an argv that any local user can read in the process
table; transient failures (5xx) are retried, permanent ones (404) are not."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from st2pkg import git, retry
from st2pkg.errors import SourceError

SECRET = "s3cret-token-1b9c"


class _AuthHandler(SimpleHTTPRequestHandler):
    """Serves a directory to user 'ci' with password SECRET; slow, so a fetch lasts. The
    first ``failures`` requests get a 503."""

    failures: ClassVar[list[int]] = [0]

    def do_GET(self) -> None:
        if self.failures[0] > 0:
            self.failures[0] -= 1
            self.send_error(503)
            return
        want = "Basic " + base64.b64encode(f"ci:{SECRET}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        time.sleep(0.05)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads git's answer, not the server's log."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A bare repository with one commit, served over dumb HTTP with Basic auth."""
    work = tmp_path / "work"
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    for args in (["init", "-q", "-b", "main", str(work)],
                 ["-C", str(work), "commit", "-q", "--allow-empty", "-m", "one"],
                 ["clone", "-q", "--bare", str(work), str(tmp_path / "www" / "repo.git")],
                 ["-C", str(tmp_path / "www" / "repo.git"), "update-server-info"]):
        subprocess.run(["git", *args], check=True, env=env, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(_AuthHandler, directory=str(tmp_path / "www")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://ci:{SECRET}@127.0.0.1:{server.server_address[1]}/repo.git"
    server.shutdown()
    server.server_close()


def _argvs() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_credentials_work_and_never_show_in_the_process_table(
        served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.extend(a for a in _argvs() if "git" in a)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        repo = git.mirror(served, tmp_path / "cache")
    finally:
        done.set()
        watcher.join()
    assert git.resolve_ref(repo, "main") is not None
    assert any("fetch" in a and "127.0.0.1" in a for a in seen), "the watcher saw no fetch"
    assert not [a for a in seen if SECRET in a]


def test_wrong_credentials_fail_without_printing_them(served: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    wrong = served.replace(SECRET, "wrong-pass-77")
    with pytest.raises(SourceError) as info:
        git.mirror(wrong, tmp_path / "cache")
    assert "wrong-pass-77" not in str(info.value)


def test_a_url_that_cannot_be_fetched_leaves_no_mirror(served: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    with pytest.raises(SourceError):
        git.mirror(served.replace(SECRET, "wrong"), tmp_path / "cache")
    assert list((tmp_path / "cache" / "repos").iterdir()) == []


def test_a_transient_failure_is_retried_and_logged(
        served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setattr(retry, "WAIT", 0.01)
    monkeypatch.setattr(_AuthHandler, "failures", [2])
    repo = git.mirror(served, tmp_path / "cache")
    assert git.resolve_ref(repo, "main") is not None
    err = capsys.readouterr().err
    assert "attempt 1 of 4 failed" in err
    assert "attempt 2 of 4 failed" in err
    assert "attempt 3" not in err
    assert SECRET not in err


def test_a_permanent_failure_is_not_retried(served: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setattr(retry, "WAIT", 0.01)
    with pytest.raises(SourceError, match="not found"):
        git.mirror(served.replace("repo.git", "missing.git"), tmp_path / "cache")
    assert "retrying" not in capsys.readouterr().err


def test_retries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "WAIT", 0.01)
    calls: list[int] = []

    def always() -> None:
        calls.append(1)
        raise OSError("down")

    with pytest.raises(OSError, match="down"):
        retry.retrying(always, what="x", transient=lambda e: True, log=lambda _: None,
                       attempts=3)
    assert len(calls) == 3
