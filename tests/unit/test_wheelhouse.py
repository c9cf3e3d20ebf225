"""The host-side wheelhouse against a stand-in node (a real NodeSession over a scripted
connection): a complete requirement set downloads nothing, a new one runs pip wheel and
brings only the new wheels home, and a VCS requirement's wheel lives under vcs/<commit>/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.unit.fakes import CATALOG, FakeConnection

from st2pkg.remote import NodeSession
from st2pkg.vcs import Requirements, ResolvedVcs, VcsRequirement
from st2pkg.wheelhouse import REMOTE, REQUIREMENTS, Wheelhouse

BOOKWORM = CATALOG.get("bookworm")
SIX = "six-1.16.0-py2.py3-none-any.whl"
LISTING = f"find {REMOTE} -maxdepth 1"
PIP_WHEEL = "/build/pip-tools/bin/pip wheel"
REQS = Requirements(("six", "pika==1.3.2"))


def node(answers: dict[str, tuple[int, str]] | None = None
         ) -> tuple[NodeSession, FakeConnection, list[str]]:
    conn = FakeConnection(answers or {}, files={f"{REMOTE}/{SIX}": b"six wheel"})
    lines: list[str] = []
    return NodeSession(conn, lines.append), conn, lines


def test_its_place_is_per_distro_and_python_abi(tmp_path: Path) -> None:
    house = Wheelhouse(tmp_path, BOOKWORM)
    assert house.dir == tmp_path / "wheelhouse" / f"bookworm-{BOOKWORM.python_abi}"
    assert house.sets == house.dir.with_name(house.dir.name + ".sets")
    assert not house.complete(REQS)


def test_a_new_set_runs_pip_wheel_and_brings_the_new_wheels_home(tmp_path: Path) -> None:
    house = Wheelhouse(tmp_path, BOOKWORM)
    session, conn, lines = node({LISTING: (0, f"{SIX}\n")})
    assert house.fill(session, REQS) == 1
    key = house.key(REQS)
    reqs_remote = f"/build/requirements-{key}.txt"
    assert conn.uploads[reqs_remote] == b"six\npika==1.3.2\n"
    (pip,) = [c for c in conn.commands if c.startswith(PIP_WHEEL)]
    assert pip.endswith(f"--wheel-dir {REMOTE} --find-links {REMOTE} -r {reqs_remote}")
    assert (house.dir / SIX).read_bytes() == b"six wheel"
    assert (house.sets / key).read_text() == REQS.key_text()
    assert house.dir.with_name(house.dir.name + ".lock").is_file(), "fills take the lock"
    assert lines[-1] == (f"wheelhouse {house.dir.name}: 1 new wheels; requirement set {key} "
                         "complete")
    assert house.complete(REQS)
    assert not house.complete(Requirements(("six", "pika==1.3.3")))


def test_only_wheels_this_host_lacks_are_downloaded(tmp_path: Path) -> None:
    house = Wheelhouse(tmp_path, BOOKWORM)
    house.dir.mkdir(parents=True)
    (house.dir / SIX).write_bytes(b"had it")
    session, conn, _ = node({LISTING: (0, f"{SIX}\n")})
    assert house.fill(session, REQS) == 0
    assert (house.dir / SIX).read_bytes() == b"had it"
    assert any(c.startswith(PIP_WHEEL) for c in conn.commands), "the set was new"


def test_a_complete_set_downloads_nothing(tmp_path: Path) -> None:
    first = Wheelhouse(tmp_path, BOOKWORM)
    first.fill(node({LISTING: (0, f"{SIX}\n")})[0], REQS)
    again = Wheelhouse(tmp_path, BOOKWORM)
    assert again.complete(REQS)
    session, conn, lines = node()
    assert again.fill(session, REQS) == 0
    assert not any(c.startswith(PIP_WHEEL) for c in conn.commands)
    assert "requirement set completed by another run meanwhile: nothing downloaded" in lines
    assert any(r.startswith("/tmp/st2pkg-upload-") for r in conn.uploads), "re-uploaded"


def test_the_wheelhouse_goes_up_once_per_node(tmp_path: Path) -> None:
    house = Wheelhouse(tmp_path, BOOKWORM)
    session, conn, _ = node()
    house.upload(session)
    assert conn.commands == [f"mkdir -p {REMOTE}"], "an empty wheelhouse uploads nothing"
    house.upload(session)
    assert len(conn.commands) == 1


def test_build_venv_gets_the_set_at_its_fixed_path(tmp_path: Path) -> None:
    session, conn, _ = node()
    Wheelhouse(tmp_path, BOOKWORM).install(session, REQS)
    assert conn.uploads[REQUIREMENTS] == b"six\npika==1.3.2\n"


def git_repo(path: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    path.mkdir()
    (path / "setup.py").write_text("from setuptools import setup\nsetup(name='vcsdep')\n")
    for argv in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", "-C", str(path), *argv], check=True, env=env)
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], check=True, env=env,
                          capture_output=True, text=True).stdout.strip()


def test_a_vcs_wheel_is_kept_under_its_commit(tmp_path: Path) -> None:
    repo = tmp_path / "vcsdep"
    commit = git_repo(repo)
    vcs = ResolvedVcs(VcsRequirement("vcsdep", "https://git.example.invalid/vcsdep", "main"),
                      commit, repo)
    reqs = Requirements(("six",), (vcs,))
    wheel = "vcsdep-1.0-py3-none-any.whl"
    built = f"{REMOTE}/vcs/{commit}"
    house = Wheelhouse(tmp_path / "cache", BOOKWORM)
    session, conn, _ = node({LISTING: (0, f"{SIX}\n"), f"find {built} ": (0, f"{wheel}\n")})
    conn.files[f"{built}/{wheel}"] = b"vcsdep wheel"
    assert house.fill(session, reqs) == 2
    assert f"/tmp/st2pkg-upload-{commit}.tar" in conn.uploads, "the host's tree goes up"
    assert any(c.startswith(f"rm -rf {built} && {PIP_WHEEL}") and c.endswith(
        f"--no-deps --find-links {REMOTE} --wheel-dir {built} /build/vcs/{commit}")
        for c in conn.commands)
    assert (house.dir / "vcs" / commit / wheel).read_bytes() == b"vcsdep wheel"
    assert not (house.dir / wheel).exists(), "never beside the other wheels"
    fill_text = conn.uploads[f"/build/requirements-{house.key(reqs)}.txt"].decode()
    assert fill_text == f"six\nvcsdep @ file://{built}/{wheel}\n"
    assert f"cd {REMOTE} && rm -f -- {wheel}" in conn.commands
    assert house.install_text(reqs) == f"six\n--find-links {built}\nvcsdep==1.0\n"
    assert house.complete(reqs)
    (house.dir / "vcs" / commit / wheel).unlink()
    assert not house.complete(reqs), "a set is complete only with its VCS wheels"
