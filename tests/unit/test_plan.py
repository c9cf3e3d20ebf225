"""Build planning over a real st2-shaped repository and the fake engine: bad input fails
before anything is provisioned; versions and requirement sets are settled once per run."""

from __future__ import annotations

import io
import subprocess
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.fixtures.st2src import commit_version, make_st2_repo, source_env
from tests.unit.fakes import FakeEngine, context

from st2pkg.errors import SourceError, UnavailableError
from st2pkg.plan import BuildPlan, plan


@dataclass(frozen=True)
class Repo:
    path: Path
    dev_commit: str  # its first commit: 3.9dev; master is 3.9.0rc1
    env: dict[str, str]


@dataclass(frozen=True)
class Planned:
    plan: BuildPlan
    notes: str


def head(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def bookworm_engine() -> FakeEngine:
    return FakeEngine(registry={"debian:bookworm": {}})


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    path = make_st2_repo(tmp_path_factory.mktemp("src"))
    dev = head(path)
    commit_version(path, "3.9.0rc1", tag="v3.9.0rc1")
    return Repo(path, dev, source_env(path))


@pytest.fixture(scope="module")
def planned(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> Planned:
    """One plan of st2 (from the source) and st2client (from PyPI), its notes kept."""
    with redirect_stderr(io.StringIO()) as notes:
        made = plan(context(tmp_path_factory.mktemp("run"), bookworm_engine(),
                            "packages: [st2, st2client]\n", environ=repo.env))
    return Planned(made, notes.getvalue())


def test_a_bad_revision_fails_before_anything_is_provisioned(repo: Repo,
                                                             tmp_path: Path) -> None:
    fake = FakeEngine()  # could not provision bookworm either: the source is looked at first
    ctx = context(tmp_path, fake, "base_source: registry\nst2_gitrev: no-such-branch\n",
                  environ=repo.env)
    with pytest.raises(SourceError, match="no-such-branch") as info:
        plan(ctx)
    assert info.value.exit_code == 2
    assert (fake.pulls, fake.builds) == ([], [])
    assert not (tmp_path / "build").exists()


def test_provisioning_is_checked_once_the_source_is_good(repo: Repo, tmp_path: Path) -> None:
    ctx = context(tmp_path, FakeEngine(), "base_source: registry\n",
                  environ=repo.env)
    with pytest.raises(UnavailableError, match="bookworm: registry image debian:bookworm"):
        plan(ctx)


def test_versions_come_from_the_source_and_the_recipe_default(planned: Planned,
                                                               repo: Repo) -> None:
    assert planned.plan.versions == {"st2": "3.9.0~rc1", "st2client": "3.9.0"}
    assert planned.plan.source is not None
    assert planned.plan.source.commit == head(repo.path)
    assert f"master = {head(repo.path)}" in planned.notes


def test_a_dev_version_sorts_by_commit(repo: Repo, tmp_path: Path) -> None:
    made = plan(context(tmp_path, bookworm_engine(), f"st2_gitrev: {repo.dev_commit}\n",
                        environ=repo.env))
    # The fixture commits at 2024-01-01T00:00:00Z.
    assert made.versions == {"st2": f"3.9~~dev0.20240101000000.g{repo.dev_commit[:8]}"}


def test_st2pkg_version_is_used_as_given(repo: Repo, tmp_path: Path) -> None:
    env = {**repo.env, "ST2PKG_VERSION": "3.9.5"}
    made = plan(context(tmp_path, bookworm_engine(), "packages: [st2, st2client]\n",
                        environ=env))
    assert made.versions == {"st2": "3.9.5", "st2client": "3.9.5"}


def test_requirement_sets_pin_vcs_requirements_to_a_commit(planned: Planned,
                                                          repo: Repo) -> None:
    made = planned.plan
    st2 = made.requirements["st2"]
    mirror = repo.path.parent / "mirrors" / "st2pkg-vcsdep.git"
    assert [(v.req.name, v.req.ref, v.commit) for v in st2.vcs] == [
        ("st2pkg-vcsdep", "main", head(mirror))]
    assert any(line.startswith("pika") for line in st2.plain)
    assert made.requirements["st2client"].vcs == ()
    assert f"requirement st2pkg-vcsdep: https://git.example.invalid/st2pkg/st2pkg-vcsdep.git" \
           f"@main = {head(mirror)}" in planned.notes


def test_a_pypi_package_needs_no_source(tmp_path: Path) -> None:
    ctx = context(tmp_path, bookworm_engine(), "packages: [st2client]\n"
                  "st2_giturl: https://git.example.invalid/nothing-here/st2\n")
    made = plan(ctx)
    assert made.source is None
    assert made.versions == {"st2client": "3.9.0"}
