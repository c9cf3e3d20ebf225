"""Build a real pack image on a stand-in st2 image and use it as a Kubernetes init container
would. The stand-in (Debian + a venv at /opt/stackstorm/st2) is made from a local Debian
image: $ST2PKG_TEST_DEBIAN_IMAGE, else st2pkg's bootstrapped st2pkg/base-bookworm."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from tests.fixtures.packs import CEXT, PackWorld, build_world, commit, native_pack
from tests.support import MB, copy_out, in_st2

from st2pkg.containers import Docker
from st2pkg.errors import StageError
from st2pkg.packs import commands

pytestmark = pytest.mark.docker

STAND_IN = "st2pkg-test/st2"


def _debian_image(client: docker.DockerClient) -> str | None:
    wanted = os.environ.get("ST2PKG_TEST_DEBIAN_IMAGE")
    if wanted:
        return wanted
    for image in client.images.list(name="st2pkg/base-bookworm"):
        if image.tags:
            return str(image.tags[0])
    return None


@pytest.fixture(scope="module")
def st2_base(engine: Docker) -> str:
    debian = _debian_image(engine.client)
    if debian is None:
        pytest.skip("no local Debian image: set ST2PKG_TEST_DEBIAN_IMAGE or bootstrap bookworm")
    tag = "bookworm"
    ref = f"{STAND_IN}:{tag}"
    if engine.image_id(ref) is None:
        dockerfile = (
            f"FROM {debian}\n"
            "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
            "--no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*\n"
            "RUN python3 -m venv --copies /opt/stackstorm/st2\n"
        ).encode()
        engine.client.images.build(fileobj=io.BytesIO(dockerfile), tag=ref, rm=True)
    return ref


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PackWorld:
    return build_world(tmp_path_factory.mktemp("world"))


def _spec(path: Path, world: PackWorld) -> Path:
    path.write_text(
        f"base: {{image: {STAND_IN}, tags: [bookworm]}}\n"
        "pack_image:\n  image: st2pkg-test/packs\n  version: '1.0.0'\n  packs:\n"
        "    - pack: alpha=main\n"   # needs six (requirements.txt) and beta 1.0.0
        f"    - pack: {world.url('gamma')}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def built(engine: Docker, st2_base: str, world: PackWorld, cache: Path) -> Iterator[str]:
    tags = commands.build(_spec(cache / "packs.yml", world), world.indexes, cache,
                          cache / "reports", log=lambda line: None)
    assert tags == ["st2pkg-test/packs:1.0.0-bookworm"]
    yield tags[0]
    engine.client.images.remove(tags[0], force=True)


def test_pack_image_serves_an_init_container(engine: Docker, st2_base: str, built: str,
                                             world: PackWorld, tmp_path: Path) -> None:
    image = engine.client.images.get(built)
    assert image.labels["st2pkg.pack.alpha.commit"] == world.shas["alpha", "main"]
    assert image.labels["st2pkg.pack.beta.source"] == world.url("beta")
    assert image.attrs["Config"]["Cmd"] == ["/bin/sh"]

    out = tmp_path / "out"
    content = copy_out(built, out)
    assert sorted(p.name for p in (out / "packs").iterdir()) == ["alpha", "beta", "gamma"]
    assert sorted(p.name for p in (out / "virtualenvs").iterdir()) == ["alpha", "beta", "gamma"]
    assert not (out / "packs" / "alpha" / ".git").exists()

    # The runtime image is its content plus busybox: nothing else of the base leaks in.
    assert image.attrs["Size"] - content <= 2 * MB

    # The copied venvs work where they belong: in the st2 image, at their final paths.
    said = in_st2(st2_base, out, "import sys, six; print(sys.prefix, six.__file__)", "alpha")
    assert said.startswith("/opt/stackstorm/virtualenvs/alpha /opt/stackstorm/virtualenvs/alpha/")


def test_unchanged_inputs_reuse_the_image(engine: Docker, built: str, world: PackWorld,
                                          cache: Path, tmp_path: Path) -> None:
    first = engine.image_id(built)
    lines: list[str] = []
    commands.build(_spec(tmp_path / "again.yml", world), world.indexes, cache,
                   cache / "reports", log=lines.append)
    assert engine.image_id(built) == first
    assert f"{built} is up to date" in lines


def test_a_busybox_that_cannot_run_fails_and_leaves_no_image(
        engine: Docker, st2_base: str, world: PackWorld, tmp_path: Path) -> None:
    # A dynamically linked program has no loader in the FROM-scratch runtime image.
    dynamic = Path("/bin/true").resolve()
    spec = tmp_path / "broken.yml"
    spec.write_text(
        f"base: {{image: {STAND_IN}, tags: [bookworm]}}\n"
        "pack_image:\n  image: st2pkg-test/broken\n  version: '1.0.0'\n  packs:\n"
        f"    - pack: {world.url('beta')}=1.0.0\n", encoding="utf-8")
    with pytest.raises(StageError, match=r"st2pkg-test/broken:1\.0\.0-bookworm: the "
                                         r"init-container copy does not run in it \(exit "):
        commands.build(spec, [], tmp_path / "cache", tmp_path / "reports", busybox=dynamic,
                       log=lambda line: None)
    assert engine.image_id("st2pkg-test/broken:1.0.0-bookworm") is None
    assert not engine.containers({"st2pkg.packs.check": "st2pkg-test/broken:1.0.0-bookworm"})


def _native_spec(path: Path, repo: Path, ref: str, world: PackWorld) -> Path:
    path.write_text(
        f"base: {{image: {STAND_IN}, tags: [bookworm]}}\n"
        "pack_image:\n  image: st2pkg-test/native\n  version: '1.0.0'\n  packs:\n"
        f"    - pack: {repo.as_uri()}={ref}\n"
        f"    - pack: {world.url('beta')}=1.0.0\n", encoding="utf-8")
    return path


def _layers(engine: Docker, image: str) -> list[str]:
    return list(engine.client.images.get(image).attrs["RootFS"]["Layers"])


def test_a_c_extension_compiles_once_and_one_changed_pack_changes_one_layer(
        engine: Docker, st2_base: str, world: PackWorld, tmp_path: Path) -> None:
    repo = native_pack(tmp_path / "repos")
    cache, reports = tmp_path / "cache", tmp_path / "reports"
    image = "st2pkg-test/native:1.0.0-bookworm"
    lines: list[str] = []
    try:
        commands.build(_native_spec(tmp_path / "a.yml", repo, "v1.0.0", world), [], cache,
                       reports, log=lines.append)
        assert "pip wheel for pack cpack in st2pkg/packs-builder:" in "\n".join(lines)
        trees = tmp_path / "trees"
        content = copy_out(image, trees)
        said = in_st2(st2_base, trees, f"import {CEXT}; print({CEXT}.answer(), {CEXT}.__file__)",
                      "cpack")
        assert said.split()[0] == "42"
        assert said.split()[1].startswith("/opt/stackstorm/virtualenvs/cpack/")
        assert said.split()[1].endswith(".so")
        # The toolchain stayed in the builder: busybox, then one layer per pack, and no more.
        first = _layers(engine, image)
        assert len(first) == 3
        assert engine.client.images.get(image).attrs["Size"] - content <= 2 * MB

        labels = engine.client.images.get(image).labels
        assert labels["st2pkg.pack.cpack.distributions"] == "st2pkg_cext==0.1"
        report = json.loads((reports / "st2pkg-test_native_1.0.0-bookworm.json").read_text())
        assert [(p["ref"], p["version"], p["source"], p["distributions"])
                for p in report["packs"]] == [
            ("beta", "1.0.0", world.url("beta"), []),
            ("cpack", "1.0.0", repo.as_uri(), ["st2pkg_cext==0.1"])]

        # Same requirements on the same base: the cached wheels serve, nothing compiles.
        engine.client.images.remove(image, force=True)
        lines.clear()
        commands.build(_native_spec(tmp_path / "b.yml", repo, "v1.0.0", world), [], cache,
                       reports, log=lines.append)
        assert not [line for line in lines if "pip wheel" in line or "gcc" in line]
        assert _layers(engine, image) == first

        # A new commit of one pack: only its layer differs.
        commit(repo, {"README.md": "a change\n"}, "docs")
        commands.build(_native_spec(tmp_path / "c.yml", repo, "main", world), [], cache,
                       reports, log=lines.append)
        after = _layers(engine, image)
        assert [a == b for a, b in zip(first, after, strict=True)] == [True, True, False]
    finally:
        engine.client.images.remove(image, force=True)
