"""VCS requirement lines: parsed as pip reads them, fetched through the source cache (git's
insteadOf rules and our git_mirrors option), pinned to commits, rendered for the node."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from st2pkg.distros import Catalog
from st2pkg.errors import SourceError
from st2pkg.vcs import Requirements, VcsRequirement, parse, resolve, split
from st2pkg.wheelhouse import Wheelhouse

GITHUB = "https://github.com/StackStorm"


@pytest.mark.parametrize(("line", "expected"), [
    (f"orquesta@ git+{GITHUB}/orquesta.git@5ba1467614b2ef8b4709b2ca89e68baa671e8975",
     VcsRequirement("orquesta", f"{GITHUB}/orquesta.git",
                    "5ba1467614b2ef8b4709b2ca89e68baa671e8975")),
    (f'logshipper@ git+{GITHUB}/logshipper.git@stackstorm_patched ; platform_system=="Linux"',
     VcsRequirement("logshipper", f"{GITHUB}/logshipper.git", "stackstorm_patched",
                    marker='platform_system=="Linux"')),
    (f"st2-auth-ldap @ git+{GITHUB}/st2-auth-ldap.git",
     VcsRequirement("st2-auth-ldap", f"{GITHUB}/st2-auth-ldap.git", None)),
    (f"-e git+{GITHUB}/st2-rbac-backend.git@master#egg=st2-rbac-backend",
     VcsRequirement("st2-rbac-backend", f"{GITHUB}/st2-rbac-backend.git", "master")),
    ("pywinrm[kerberos] @ git+https://user:s3cret@git.example.invalid/x/pywinrm.git@v1"
     "#subdirectory=src",
     VcsRequirement("pywinrm", "https://user:s3cret@git.example.invalid/x/pywinrm.git", "v1",
                    extras="kerberos", subdirectory="src")),
    ("git+ssh://git@git.example.invalid/lib.git@1.2#egg=lib",
     VcsRequirement("lib", "ssh://git@git.example.invalid/lib.git", "1.2")),
])
def test_parse_vcs_lines(line: str, expected: VcsRequirement) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize("line", ["six==1.16.0", "pyinotify==0.9.6 ; platform_system=='Linux'",
                                  "requests[socks]>=2", "pip"])
def test_plain_lines_are_not_vcs(line: str) -> None:
    assert parse(line) is None


def test_a_vcs_line_without_a_name_is_an_error_without_its_credentials() -> None:
    with pytest.raises(SourceError, match="names no project") as info:
        parse("git+https://user:s3cret@git.example.invalid/lib.git@main")
    assert "s3cret" not in str(info.value)


def test_split_keeps_plain_lines_in_order() -> None:
    plain, found = split(["pip", "", f"orquesta@ git+{GITHUB}/orquesta.git", "six==1.16.0"])
    assert plain == ["pip", "six==1.16.0"]
    assert [r.name for r in found] == ["orquesta"]


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A local repository standing in for a mirror of github.com/StackStorm/<name>."""
    repo = tmp_path / "mirrors" / "vcsdep.git"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "setup.py").write_text("from setuptools import setup\nsetup(name='vcsdep')\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    return repo


def _rules(tmp_path: Path) -> tuple[str, ...]:
    return (f"{GITHUB}/=file://{tmp_path}/mirrors/",)


def test_resolve_through_git_mirrors(tmp_path: Path, mirror: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    text = f"six==1.16.0\nvcsdep @ git+{GITHUB}/vcsdep.git@main\n"
    found = resolve(text, tmp_path / "cache", _rules(tmp_path))
    assert found.plain == ("six==1.16.0",)
    assert [v.commit for v in found.vcs] == [_git(mirror, "rev-parse", "HEAD")]
    assert found.vcs[0].record()["url"] == f"{GITHUB}/vcsdep.git"


def test_resolve_through_the_users_insteadof(tmp_path: Path, mirror: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{tmp_path}/mirrors/"]\n\tinsteadOf = {GITHUB}/\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    found = resolve(f"vcsdep@ git+{GITHUB}/vcsdep.git@main\n", tmp_path / "cache")
    assert found.vcs[0].commit == _git(mirror, "rev-parse", "HEAD")


def test_a_moved_branch_changes_the_key_an_unchanged_one_does_not(
        tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    text = f"vcsdep @ git+{GITHUB}/vcsdep.git@main\n"
    first = resolve(text, tmp_path / "cache", _rules(tmp_path)).key_text()
    assert resolve(text, tmp_path / "cache", _rules(tmp_path)).key_text() == first
    _git(mirror, "commit", "-q", "--allow-empty", "-m", "two")
    moved = resolve(text, tmp_path / "cache", _rules(tmp_path)).key_text()
    assert moved != first
    assert _git(mirror, "rev-parse", "HEAD") in moved


def test_an_unknown_ref_is_a_source_error(tmp_path: Path, mirror: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    with pytest.raises(SourceError, match="'nope' is not a branch, tag or commit"):
        resolve(f"vcsdep @ git+{GITHUB}/vcsdep.git@nope\n", tmp_path / "cache",
                _rules(tmp_path))


def test_one_project_at_two_commits_is_an_error(tmp_path: Path, mirror: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    first = _git(mirror, "rev-parse", "HEAD")
    _git(mirror, "commit", "-q", "--allow-empty", "-m", "two")
    text = (f"vcsdep @ git+{GITHUB}/vcsdep.git@{first}\n"
            f"vcsdep @ git+{GITHUB}/vcsdep.git@main\n")
    with pytest.raises(SourceError, match="wanted at two commits"):
        resolve(text, tmp_path / "cache", _rules(tmp_path))


def test_node_texts_pin_vcs_wheels_by_commit(tmp_path: Path, mirror: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    found: Requirements = resolve(
        f'six==1.16.0\nvcsdep @ git+{GITHUB}/vcsdep.git@main ; python_version >= "3"\n',
        tmp_path / "cache", _rules(tmp_path))
    house = Wheelhouse(tmp_path / "cache", Catalog.load().get("bookworm"))
    commit = found.vcs[0].commit
    wheels = house.dir / "vcs" / commit
    wheels.mkdir(parents=True)
    (wheels / "vcsdep-0.1.0-py3-none-any.whl").write_bytes(b"")
    assert house.install_text(found).splitlines() == [
        "six==1.16.0", f"--find-links /build/wheelhouse/vcs/{commit}",
        'vcsdep==0.1.0 ; python_version >= "3"']
    assert house._fill_text(found).splitlines()[1] == (
        f"vcsdep @ file:///build/wheelhouse/vcs/{commit}/vcsdep-0.1.0-py3-none-any.whl"
        ' ; python_version >= "3"')
    assert not house.complete(found)
