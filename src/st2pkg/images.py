"""Images: base images (registry, else bootstrapped from Debian's archive), per-distro build
and test node images, service images and the st2 image, each reused while its inputs are
unchanged (the one rule of imagecache.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config import Options
from .distros import Distro
from .engine import Engine
from .errors import StageError, UnavailableError
from .imagecache import content_hash, context_hash, is_current, labels
from .paths import IMAGES_DIR
from .report import Log

REPO = "st2pkg"
# The st2 image `st2pkg st2image` makes from this pipeline's st2 package.
ST2_IMAGE = f"{REPO}/st2"
Role = Literal["build", "test"]


@dataclass(frozen=True)
class Ensured:
    """An image reference and whether this call had to make it."""

    ref: str
    built: bool
    how: str


class Images:
    """Makes the images a run needs, reusing any whose inputs are unchanged."""

    def __init__(self, docker_: Engine, opts: Options) -> None:
        self.docker = docker_
        self.opts = opts

    def can_provision(self, distro: Distro) -> tuple[bool, str]:
        """Whether ``distro``'s base image can be had here, and how or why not (no pulls)."""
        found, registry_why = self._registry(distro, None)
        if found is not None:
            return True, found.how
        why = self._no_bootstrap(distro, registry_why)
        return why is None, why or f"bootstrap {distro.bootstrap} from Debian's archive"

    def base(self, distro: Distro, log: Log) -> Ensured:
        """The distro's base image: the registry image when it can be had, else bootstrapped."""
        found, registry_why = self._registry(distro, log)
        if found is not None:
            return found
        why = self._no_bootstrap(distro, registry_why)
        if why is not None:
            raise UnavailableError(f"{distro.name} cannot be provisioned here: {why}")
        return self._bootstrap(distro, log)

    def _registry(self, distro: Distro, log: Log | None) -> tuple[Ensured | None, str]:
        """The registry image when it can be had, else (None, why). Only ``base`` (which
        passes a log) pulls; ``can_provision`` asks the registry for the manifest."""
        ref = distro.image
        if self.opts.base_source == "bootstrap":
            return None, "registry not used (base_source=bootstrap)"
        if self.docker.image_id(ref):
            return Ensured(ref, False, f"registry image {ref} present locally"), ""
        if log is None:
            if self.docker.can_pull(ref):
                return Ensured(ref, False, f"registry image {ref} can be pulled"), ""
            return None, f"registry image {ref} cannot be pulled (no registry)"
        try:
            log(f"pulling {ref}")
            self.docker.pull(ref)
            return Ensured(ref, True, "pulled from registry"), ""
        except UnavailableError as err:
            log(str(err))
            return None, str(err)

    def _no_bootstrap(self, distro: Distro, registry_why: str) -> str | None:
        """Why the base can be neither pulled nor bootstrapped, or None when it can be
        bootstrapped."""
        if self.opts.base_source == "registry":
            return registry_why
        if distro.bootstrap is None:
            why = (f"no bootstrap from Debian's archive for {distro.family} "
                   f"(only Debian suites can be bootstrapped)")
        elif shutil.which("debootstrap") is None:
            why = "debootstrap is not installed (./bootstrap installs it as root)"
        elif os.geteuid() != 0:
            why = "debootstrap needs root"
        else:
            return None
        return f"{registry_why}; {why}"

    def _bootstrap(self, distro: Distro, log: Log) -> Ensured:
        suite = str(distro.bootstrap)
        mirror = self.opts.debian_mirror or ""
        inputs = content_hash("debootstrap", "minbase", suite, mirror)
        ref = f"{REPO}/base-{suite}:{inputs}"
        if is_current(self.docker, ref, inputs):
            return Ensured(ref, False, "bootstrapped image cached")
        tmp_root = self.opts.cache_dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tmp_root, prefix=f"bootstrap-{suite}-") as tmp:
            rootfs, tarball = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
            argv = ["debootstrap", "--variant=minbase", suite, str(rootfs)]
            log(f"running {' '.join(argv)}{' <mirror>' if mirror else ''}")
            _run_logged([*argv, *([mirror] if mirror else [])], log,
                        f"debootstrap of {suite} failed")
            _run_logged(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], log,
                        f"packing the {suite} root file system failed")
            self.docker.import_rootfs(tarball, ref, labels(inputs))
        return Ensured(ref, True, f"bootstrapped {suite} from Debian's archive")

    def node(self, distro: Distro, role: Role, log: Log) -> Ensured:
        """The build or test node image of ``distro`` (sshd; systemd on test nodes)."""
        base = self.base(distro, log)
        base_id = self.docker.image_id(base.ref) or base.ref
        packages = " ".join(distro.build_packages if role == "build" else distro.test_packages)
        dockerfile = f"{role}.Dockerfile"
        return self._ensure(f"{role}-{distro.name}", IMAGES_DIR / "node", dockerfile,
                            {"BASE": base.ref, "PACKAGES": packages}, base_id, log)

    def service(self, name: str, base: Ensured, log: Log) -> Ensured:
        """A service image built from Debian's packages on ``base``."""
        base_id = self.docker.image_id(base.ref) or base.ref
        return self._ensure(name, IMAGES_DIR / "services" / name, "Dockerfile",
                            {"BASE": base.ref}, base_id, log)

    def st2(self, distro: Distro, packages: list[Path], version: str, log: Log) -> Ensured:
        """An image with ``packages`` (this pipeline's st2 package) installed on the distro's
        base, tagged st2pkg/st2:<version>-<distro> and st2pkg/st2:<distro> (the newest)."""
        made = self._st2(distro, packages, version, log)
        self.docker.tag(made.ref, f"{ST2_IMAGE}:{distro.name}")
        return made

    def _st2(self, distro: Distro, packages: list[Path], version: str, log: Log) -> Ensured:
        base = self.base(distro, log)
        # Package versions may hold ~ and + (3.10~~dev0...), which image tags may not.
        tag = f"{ST2_IMAGE}:{re.sub(r'[^A-Za-z0-9_.-]', '-', version)}-{distro.name}"
        with tempfile.TemporaryDirectory() as tmp:
            context = Path(tmp)
            shutil.copy2(IMAGES_DIR / "st2" / "Dockerfile", context / "Dockerfile")
            shutil.copy2(IMAGES_DIR / "node" / "node-setup", context / "node-setup")
            (context / "packages").mkdir()
            for package in packages:
                shutil.copy2(package, context / "packages" / package.name)
            inputs = content_hash(context_hash(context), self.docker.image_id(base.ref) or "")
            if is_current(self.docker, tag, inputs):
                return Ensured(tag, False, "cached (inputs unchanged)")
            log(f"building {tag} from {', '.join(p.name for p in packages)}")
            self.docker.build(context, "Dockerfile", tag, {"BASE": base.ref},
                              labels(inputs, **{"st2pkg.image": f"st2-{distro.name}"}), log)
        return Ensured(tag, True, "built")

    def _ensure(self, name: str, context: Path, dockerfile: str, buildargs: Mapping[str, str],
                base_id: str, log: Log) -> Ensured:
        args = sorted(f"{k}={v}" for k, v in buildargs.items() if k != "BASE")
        inputs = content_hash(context_hash(context), dockerfile, base_id, *args)
        tag = f"{REPO}/{name}:{inputs}"
        if is_current(self.docker, tag, inputs):
            return Ensured(tag, False, "cached (inputs unchanged)")
        log(f"building {tag} from {context.name}/{dockerfile}")
        self.docker.build(context, dockerfile, tag, buildargs,
                          labels(inputs, **{"st2pkg.image": name}), log)
        return Ensured(tag, True, "built")


def _run_logged(argv: list[str], log: Log, failure: str) -> None:
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log(line)
    if proc.returncode != 0:
        raise StageError(f"{failure} (exit {proc.returncode})")
