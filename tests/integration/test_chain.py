"""The whole chain with the user's tasks: st2 source -> package -> st2 image -> pack image,
then the pack image used the way a Kubernetes init container uses it."""

from __future__ import annotations

import re
from pathlib import Path

import docker
import pytest
from tests.fixtures.packs import build_world
from tests.fixtures.st2src import make_st2_repo
from tests.support import Cli

pytestmark = pytest.mark.docker


def run(image: str, argv: list[str], **kwargs: object) -> str:
    return bytes(docker.from_env().containers.run(image, argv, remove=True, **kwargs)).decode()


def test_source_to_pack_image(cli: Cli, tmp_path: Path) -> None:
    repo = make_st2_repo(tmp_path / "src")
    env = {"ST2_GITURL": repo.as_uri(), "ST2PKG_OUTPUT": str(tmp_path / "out")}
    cli("build", "--distro=bookworm", "--package=st2", "--no-rpm-check", extra_env=env)
    made = cli("st2image", "--distro=bookworm", extra_env=env)
    match = re.search(r"^st2pkg/st2:(\S+-bookworm) ", made.stdout, re.M)
    assert match, made.stdout
    st2_image = f"st2pkg/st2:{match.group(1)}"

    world = build_world(tmp_path / "packs")
    spec = tmp_path / "packs.yml"
    spec.write_text(
        "base:\n  image: st2pkg/st2\n"
        f'  tags: ["{match.group(1)}"]\n'
        'pack_image:\n  image: st2pkg-test/chain\n  version: "1.0.0"\n  packs:\n'
        f"    - pack: {world.url('beta')}=2.0.0\n")
    built = cli("packs.build", str(spec))
    tag = f"st2pkg-test/chain:1.0.0-{match.group(1)}"
    assert built.stdout.strip().splitlines()[-1] == tag

    listing = run(tag, ["sh", "-c", "ls /opt/stackstorm/packs /opt/stackstorm/virtualenvs"])
    assert listing.count("beta") == 2
    # An init container copies the trees out; the st2 image then runs the pack's venv.
    volume = docker.from_env().volumes.create()
    try:
        run(tag, ["sh", "-ec", "cp -aR /opt/stackstorm/virtualenvs/. /shared/"],
            volumes={volume.name: {"bind": "/shared", "mode": "rw"}})
        imported = run(st2_image, ["/opt/stackstorm/virtualenvs/beta/bin/python", "-c",
                                   "import six, sys; print(six.__name__, sys.prefix)"],
                       volumes={volume.name: {"bind": "/opt/stackstorm/virtualenvs",
                                              "mode": "ro"}}, entrypoint=[])
    finally:
        volume.remove(force=True)
    assert imported.split() == ["six", "/opt/stackstorm/virtualenvs/beta"]
    labels = docker.from_env().images.get(tag).labels
    assert labels["st2pkg.pack.beta.commit"] == world.shas["beta", "2.0.0"]
