from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from st2pkg.errors import SourceError
from st2pkg.source import fetch


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "st2"
    (path / "st2common" / "st2common").mkdir(parents=True)
    git(path.parent, "init", "-q", "-b", "master", str(path))
    git(path, "config", "user.email", "t@example.org")
    git(path, "config", "user.name", "t")
    (path / "st2common" / "st2common" / "__init__.py").write_text('__version__ = "3.9dev"\n')
    git(path, "add", "-A")
    git(path, "commit", "-qm", "one")
    git(path, "tag", "v3.9.0")
    (path / "st2common" / "st2common" / "__init__.py").write_text('__version__ = "3.10dev"\n')
    git(path, "commit", "-qam", "two")
    git(path, "checkout", "-qb", "feature")
    (path / "extra.txt").write_text("x")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "three")
    git(path, "checkout", "-q", "master")
    return path


@pytest.mark.parametrize(("rev", "version"), [
    ("master", "3.10dev"), ("v3.9.0", "3.9dev"), ("feature", "3.10dev")])
def test_refs_resolve_to_their_commit(repo: Path, tmp_path: Path, rev: str,
                                      version: str) -> None:
    source = fetch(repo.as_uri(), rev, tmp_path / "cache")
    assert source.commit == git(repo, "rev-parse", f"{rev}^{{commit}}")
    assert source.version() == version


def test_sha_and_local_path(repo: Path, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "v3.9.0^{commit}")
    source = fetch(str(repo), sha[:10], tmp_path / "cache")
    assert source.commit == sha


def test_archive_has_tree_without_git(repo: Path, tmp_path: Path) -> None:
    source = fetch(repo.as_uri(), "feature", tmp_path / "cache")
    tar = source.archive(tmp_path / "src.tar")
    with tarfile.open(tar) as archive:
        names = archive.getnames()
    assert "extra.txt" in names
    assert not any(n.startswith(".git/") for n in names)


def test_bad_rev_names_ref_and_redacted_url(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        fetch(repo.as_uri(), "no-such-branch", tmp_path / "cache")
    assert "'no-such-branch'" in str(info.value)
    assert info.value.exit_code == 2


def test_unreachable_url_never_prints_credentials(tmp_path: Path) -> None:
    url = "https://user:t0psecret@127.0.0.1:9/st2.git"
    with pytest.raises(SourceError) as info:
        fetch(url, "master", tmp_path / "cache")
    assert "t0psecret" not in str(info.value)
    assert "https://***@127.0.0.1:9/st2.git" in str(info.value)
    assert not any("t0psecret" in p.read_text(errors="ignore")
                   for p in (tmp_path / "cache").rglob("config"))


def test_export_takes_only_matching_paths_one_level_per_star(repo: Path, tmp_path: Path) -> None:
    source = fetch(repo.as_uri(), "feature", tmp_path / "cache")
    dest = source.export(tmp_path / "out", ["*.txt", "*/setup.py", "st2common/*/__init__.py"])
    found = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert found == ["extra.txt", "st2common/st2common/__init__.py"]


def test_commit_time_is_the_committer_date(repo: Path, tmp_path: Path) -> None:
    source = fetch(repo.as_uri(), "master", tmp_path / "cache")
    assert source.commit_time() == int(git(repo, "show", "-s", "--format=%ct", "master"))


def test_requirements_are_listed_on_this_host_from_an_export(tmp_path: Path) -> None:
    from tests.fixtures.st2src import make_st2_repo

    from st2pkg import recipes
    from st2pkg.paths import RECIPES_DIR

    source = fetch(str(make_st2_repo(tmp_path)), "master", tmp_path / "cache")
    source.export(tmp_path / "root" / "src", recipes.REQUIREMENT_FILES)
    text = recipes.requirements(recipes.load("st2", RECIPES_DIR), "1", tmp_path / "root")
    lines = text.splitlines()
    assert "pika==1.3.2" in lines
    assert lines == sorted(lines)
    with pytest.raises(SourceError, match=r"requirements cannot be listed: .*not an st2 source"):
        recipes.requirements(recipes.load("st2", RECIPES_DIR), "1", tmp_path / "empty")
