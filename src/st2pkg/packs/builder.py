"""Wheels for pack requirements, compiled in a builder image that never ships.

The builder is the st2 base plus a toolchain and common headers (distros/images/packs-builder)
and the spec's extra build packages; it is built once per base image and package set. Each
pack's wheels are cached under ``wheels/<hash of base image, build packages, requirements>``,
so a second build of the same spec (or another pack with the same requirements on the same
base) compiles nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..engine import Engine
from ..errors import StageError
from ..imagecache import content_hash, is_current, labels
from ..images import REPO
from ..paths import IMAGES_DIR
from ..pipenv import ca_file, pip_env
from ..report import Log
from .resolve import ResolvedPack
from .spec import BuildPackages

ST2_PYTHON = "/opt/stackstorm/st2/bin/python"
PACKS_DIR = "/opt/stackstorm/packs"
_CONTEXT = IMAGES_DIR / "packs-builder"
_NODE_SETUP = IMAGES_DIR / "node" / "node-setup"
_CA_IN_CONTAINER = "/etc/st2pkg-ca.pem"


def _buildargs(base: str, extra: BuildPackages) -> dict[str, str]:
    return {"BASE": base, "EXTRA_DEB": " ".join(extra.deb), "EXTRA_RPM": " ".join(extra.rpm)}


def builder_image(docker_: Engine, base: str, extra: BuildPackages, log: Log) -> str:
    """The builder image for ``base``: built unless one with the same inputs exists."""
    dockerfile = (_CONTEXT / "Dockerfile").read_bytes()
    args = _buildargs(base, extra)
    inputs = content_hash(docker_.image_id(base) or base, dockerfile, _NODE_SETUP.read_bytes(),
                          args["EXTRA_DEB"], args["EXTRA_RPM"])
    tag = f"{REPO}/packs-builder:{inputs}"
    if is_current(docker_, tag, inputs):
        return tag
    with tempfile.TemporaryDirectory(prefix="st2pkg-packs-builder-") as tmp:
        context = Path(tmp)
        shutil.copy2(_CONTEXT / "Dockerfile", context / "Dockerfile")
        shutil.copy2(_NODE_SETUP, context / "node-setup")
        log(f"building {tag} (toolchain for pack requirements) on {base}")
        docker_.build(context, "Dockerfile", tag, args,
                      labels(inputs, **{"st2pkg.image": "packs-builder"}), log)
    return tag


class Wheelhouse:
    """Per-pack wheel directories for one base image, built on first need."""

    def __init__(self, docker_: Engine, base: str, extra: BuildPackages, cache: Path,
                 log: Log) -> None:
        self.docker = docker_
        self.base = base
        self.extra = extra
        self.root = cache / "wheels"
        self.log = log
        self._base_id = docker_.image_id(base) or base
        self._builder: str | None = None

    def key(self, pack: ResolvedPack) -> str:
        """The cache key of a pack's wheels: base image, build packages, requirements."""
        return content_hash(self._base_id, " ".join(self.extra.deb), " ".join(self.extra.rpm),
                            (pack.path / "requirements.txt").read_bytes())

    def wheels(self, pack: ResolvedPack) -> Path:
        """The directory of ``pack``'s wheels (its requirements and their dependencies)."""
        dest = self.root / self.key(pack)
        if dest.is_dir():
            return dest
        if self._builder is None:
            self._builder = builder_image(self.docker, self.base, self.extra, self.log)
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".tmp-") as tmp:
            out = Path(tmp) / "wheels"
            out.mkdir()
            self.log(f"pip wheel for pack {pack.ref} in {self._builder}")
            _pip_wheel(self.docker, self._builder, pack, out, self.log)
            out.rename(dest)
        return dest


def _pip_wheel(docker_: Engine, builder: str, pack: ResolvedPack, out: Path, log: Log) -> None:
    """pip wheel in a run-once builder container. The pack is mounted where it is installed,
    so a requirement naming a file the pack ships resolves the same way here as in st2."""
    here = f"{PACKS_DIR}/{pack.ref}"
    volumes = {str(pack.path): {"bind": here, "mode": "ro"},
               str(out): {"bind": "/st2pkg/wheels", "mode": "rw"}}
    env = {"HOME": "/tmp", "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env |= pip_env()
    ca = ca_file()
    if ca is not None:
        # Hosts behind TLS-inspecting proxies trust an extra CA; the container must too.
        volumes[str(ca)] = {"bind": _CA_IN_CONTAINER, "mode": "ro"}
        env["PIP_CERT"] = _CA_IN_CONTAINER
    argv = [ST2_PYTHON, "-m", "pip", "wheel", "--wheel-dir", "/st2pkg/wheels",
            "-r", f"{here}/requirements.txt"]
    code, output = docker_.run_once(builder, argv, volumes, env, f"{os.getuid()}:{os.getgid()}",
                                    {"st2pkg.packs.wheelhouse": pack.ref})
    for line in output.splitlines():
        log(line)
    if code != 0:
        tail = " | ".join(output.strip().splitlines()[-3:])
        raise StageError(f"pip wheel for pack {pack.ref!r} on {builder} failed (exit {code}): "
                         f"{tail}; a missing header or library can be added under "
                         "pack_image.build_packages (deb: [...], rpm: [...]) in the spec")


def wheel_names(wheels: Path) -> tuple[str, ...]:
    """The wheel file names in ``wheels``, sorted so the Dockerfile is stable."""
    return tuple(sorted(p.name for p in wheels.glob("*.whl")))


def distribution(wheel_name: str) -> str:
    """``name==version`` of a wheel file name (PEP 427: name-version-...whl)."""
    name, version = wheel_name.split("-")[:2]
    return f"{name}=={version}"
