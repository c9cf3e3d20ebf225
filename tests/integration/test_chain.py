"""The whole chain with the user's tasks: st2 source -> package -> st2 image -> pack image,
then the pack image used the way a Kubernetes init container uses it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import docker
import pytest
from tests.fixtures.packs import build_world
from tests.fixtures.st2src import make_st2_repo, source_env
from tests.support import MB, Cli, copy_out, in_st2
from tests.support import docker_run as run

pytestmark = pytest.mark.docker

@pytest.fixture(scope="module")
def st2_image(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`st2pkg build` of the fixture st2 source, then `st2pkg st2image`: the versioned tag."""
    work = tmp_path_factory.mktemp("chain")
    repo = make_st2_repo(work / "src")
    env = {**source_env(repo), "ST2PKG_OUTPUT": str(work / "out")}
    cli("build", "--distro=bookworm", "--package=st2", "--no-rpm-check", extra_env=env)
    made = cli("st2image", "--distro=bookworm", extra_env=env)
    match = re.search(r"^(st2pkg/st2:\S+-bookworm) .*also tagged st2pkg/st2:bookworm",
                      made.stdout, re.M)
    assert match, made.stdout
    client = docker.from_env()
    assert client.images.get("st2pkg/st2:bookworm").id == client.images.get(match.group(1)).id
    return match.group(1)


def test_the_example_spec_builds_offline(cli: Cli, st2_image: str, tmp_path: Path) -> None:
    """`invoke packs.build examples/packs.yml`, exactly as the README says."""
    tag = "example/st2packs:1.0.0-bookworm"
    try:
        built = cli("packs.build", "examples/packs.yml")
        assert built.stdout.strip().splitlines()[-1] == tag
        listing = run(tag, ["sh", "-c", "ls /opt/stackstorm/packs /opt/stackstorm/virtualenvs"])
        assert listing.split() == ["/opt/stackstorm/packs:", "hello", "textutil",
                                   "/opt/stackstorm/virtualenvs:", "hello", "textutil"]
        image = docker.from_env().images.get(tag)
        assert image.labels["st2pkg.pack.hello.commit"].startswith("sha256:")
        assert image.labels["st2pkg.pack.textutil.version"] == "0.2.0"

        content = copy_out(tag, tmp_path / "trees")
        # One interpreter per venv: python and python3 are relative links to python3.X.
        for pack in ("hello", "textutil"):
            bin_ = tmp_path / "trees" / "virtualenvs" / pack / "bin"
            real = [p.name for p in bin_.glob("python3.*")]
            assert len(real) == 1, real
            assert [os.readlink(bin_ / n) for n in ("python", "python3")] == real * 2
        # Only the two trees plus busybox: nothing of the base leaks into the runtime image.
        assert image.attrs["Size"] - content <= 2 * MB
        said = in_st2(st2_image, tmp_path / "trees", "import sys, humanize; "
                      "print(sys.prefix, humanize.naturaldelta(90))", "hello")
        assert said.split() == ["/opt/stackstorm/virtualenvs/hello", "a", "minute"]
        said = in_st2(st2_image, tmp_path / "trees", "import slugify; "
                      "print(slugify.slugify('Hello, World'))", "textutil")
        assert said.strip() == "hello-world"
    finally:
        docker.from_env().images.remove(tag, force=True)


def test_fixture_pack_from_git_on_the_st2_image(cli: Cli, st2_image: str,
                                                tmp_path: Path) -> None:
    world = build_world(tmp_path / "packs")
    spec = tmp_path / "packs.yml"
    spec.write_text(
        "base:\n  image: st2pkg/st2\n"
        f'  tags: ["{st2_image.split(":", 1)[1]}"]\n'
        'pack_image:\n  image: st2pkg-test/chain\n  version: "1.0.0"\n  packs:\n'
        f"    - pack: {world.url('beta')}=2.0.0\n")
    built = cli("packs.build", str(spec))
    tag = f"st2pkg-test/chain:1.0.0-{st2_image.split(':', 1)[1]}"
    assert built.stdout.strip().splitlines()[-1] == tag

    listing = run(tag, ["sh", "-c", "ls /opt/stackstorm/packs /opt/stackstorm/virtualenvs"])
    assert listing.count("beta") == 2
    copy_out(tag, tmp_path / "trees")
    imported = in_st2(st2_image, tmp_path / "trees",
                      "import six, sys; print(six.__name__, sys.prefix)", "beta")
    assert imported.split() == ["six", "/opt/stackstorm/virtualenvs/beta"]
    labels = docker.from_env().images.get(tag).labels
    assert labels["st2pkg.pack.beta.commit"] == world.shas["beta", "2.0.0"]


def test_a_dependency_conflict_builds_nothing(cli: Cli, tmp_path: Path) -> None:
    world = build_world(tmp_path / "packs")
    spec = tmp_path / "conflict.yml"
    # alpha 2.0.0 needs beta=1.0.0 while the spec pins beta 2.0.0.
    spec.write_text(
        "base: {image: st2pkg/st2, tags: [bookworm]}\n"
        'pack_image:\n  image: st2pkg-test/conflict\n  version: "1.0.0"\n  packs:\n'
        f"    - pack: {world.url('beta')}=2.0.0\n"
        f"    - pack: {world.url('alpha')}=v2.0.0\n")
    done = cli("packs.build", str(spec), f"--index={world.indexes[0]}", check=False)
    assert done.returncode == 2, done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert re.search(r"pack 'beta' wanted at 2\.0\.0 .* by spec .*packs\[0\] and at 1\.0\.0 "
                     r".* by pack 'alpha'", error), error
    assert not docker.from_env().images.list(name="st2pkg-test/conflict")


def test_a_missing_st2pkg_base_says_how_to_make_it(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "nobase.yml"
    spec.write_text(
        "base: {image: st2pkg/st2, tags: [no-such-distro]}\n"
        'pack_image:\n  image: st2pkg-test/nobase\n  version: "1.0.0"\n  packs:\n'
        f"    - pack: {Path(__file__).resolve().parents[2] / 'examples/packs/textutil'}\n")
    cache = tmp_path / "cache"
    done = cli("packs.build", str(spec), check=False, extra_env={"ST2PKG_CACHE_DIR": str(cache)})
    assert done.returncode == 3, done.stderr
    assert (f"{spec}: base: st2pkg/st2:no-such-distro is not on this Docker engine; make it "
            "with `st2pkg build --package=st2` and then `st2pkg st2image`") in done.stderr
    # It stops before resolving any pack, fetching busybox or building any wheel.
    assert not cache.exists() or not any(cache.rglob("*"))


def test_the_busybox_option_must_name_a_file(cli: Cli, tmp_path: Path) -> None:
    done = cli("packs.build", "examples/packs.yml", check=False,
               extra_env={"ST2PKG_BUSYBOX": str(tmp_path / "nowhere")})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: environment ST2PKG_BUSYBOX: option 'busybox' names {tmp_path / 'nowhere'}, "
        "which is not a file; give the path of a static busybox binary, or unset it to fetch "
        "Debian's busybox-static")
