"""The host-side wheelhouse: one directory of wheels per distro and Python ABI (never mixed
across ABIs), plus a record of each requirement set known complete in it. A build node gets
the wheelhouse uploaded and installs with --no-index; only an unseen requirement set makes the
node fetch (with this host's pip settings), and only the new wheels come back.

A VCS requirement's wheel is built on the node from the tree the host uploads, and kept apart
under ``vcs/<commit>/``: two commits of one project may carry the same version number, so
they must never meet in one flat directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .artifacts import locked, write_atomic
from .distros import Distro
from .imagecache import content_hash
from .pipenv import ca_file, pip_env
from .remote import Remote
from .vcs import Requirements, ResolvedVcs

REMOTE = "/build/wheelhouse"
# What build-venv installs: the requirement set as the node sees it (see install_text).
REQUIREMENTS = "/build/requirements.txt"
_TOOLS = "/build/pip-tools"
_CA = "/build/pip-ca.pem"
_VCS_SRC = "/build/vcs"


class Wheelhouse:
    """The wheelhouse of one distro's Python ABI."""

    def __init__(self, cache_dir: Path, distro: Distro) -> None:
        self.dir = cache_dir / "wheelhouse" / f"{distro.name}-{distro.python_abi}"
        self.sets = self.dir.with_name(self.dir.name + ".sets")
        self.python = f"python{distro.python}"
        self._uploaded = False

    def key(self, requirements: Requirements) -> str:
        """The cache key of a requirement set (its text, with each VCS commit)."""
        return content_hash(requirements.key_text())

    def complete(self, requirements: Requirements) -> bool:
        """Whether every wheel of this requirement set is already here."""
        return ((self.sets / self.key(requirements)).is_file()
                and all(self._vcs_wheel(v) is not None for v in requirements.vcs))

    def upload(self, node: Remote) -> None:
        """Put the whole wheelhouse on the node at /build/wheelhouse (once per node)."""
        if self._uploaded:
            return
        self._uploaded = True
        self.dir.mkdir(parents=True, exist_ok=True)
        node.run("mkdir -p %s", REMOTE)
        if any(self.dir.iterdir()):
            node.put_tree({".": self.dir}, REMOTE)

    def fill(self, node: Remote, requirements: Requirements) -> int:
        """Build the missing wheels on the node and bring them home; returns how many.

        Runs from other checkouts may fill this wheelhouse at the same time: one fills at
        a time, and one that waited finds the set complete and uploads what the other
        brought home instead."""
        with locked(self.dir.with_name(self.dir.name + ".lock")):
            if self.complete(requirements):
                node.log("requirement set completed by another run meanwhile: nothing "
                         "downloaded")
                self._uploaded = False
                self.upload(node)
                return 0
            return self._fill(node, requirements)

    def _fill(self, node: Remote, requirements: Requirements) -> int:
        env = pip_env()
        ca = ca_file()
        if ca is not None:
            node.put_file(ca, _CA)
            env["PIP_CERT"] = _CA
        # The distro's bundled pip may be too old to build sdists into wheels.
        node.run("test -x %s/bin/wheel || { %s -m venv %s && %s/bin/pip install "
                 "--disable-pip-version-check -q --upgrade pip setuptools wheel; }", _TOOLS,
                 self.python, _TOOLS, _TOOLS, env=env, what="creating the pip tool venv")
        built = sum(self._build_vcs(node, v, env) for v in requirements.vcs
                    if self._vcs_wheel(v) is None)
        reqs_remote = f"/build/requirements-{self.key(requirements)}.txt"
        node.put_text(self._fill_text(requirements), reqs_remote)
        node.run("%s/bin/pip wheel --disable-pip-version-check --no-cache-dir --wheel-dir %s "
                 "--find-links %s -r %s", _TOOLS, REMOTE, REMOTE, reqs_remote, env=env,
                 what="pip wheel")
        # pip wheel copied the VCS wheels in beside the others: they live under vcs/ only.
        copies = [self._vcs_name(v) for v in requirements.vcs]
        if copies:
            node.run("cd %s && rm -f -- %s", REMOTE, copies)
        new = self._bring_home(node, REMOTE, self.dir)
        self.sets.mkdir(parents=True, exist_ok=True)
        marker = self.sets / self.key(requirements)
        write_atomic(marker, requirements.key_text())
        node.log(f"wheelhouse {self.dir.name}: {new + built} new wheels; requirement set "
                 f"{marker.name} complete")
        return new + built

    def install(self, node: Remote, requirements: Requirements) -> None:
        """Put the requirement set build-venv installs at /build/requirements.txt."""
        text = self.install_text(requirements)
        node.log("requirements for build-venv:\n" + text)
        node.put_text(text, REQUIREMENTS)

    def install_text(self, requirements: Requirements) -> str:
        """The set for ``pip install --no-index``: a VCS requirement becomes a pin on the
        version its wheel has, found only in its own commit's directory."""
        lines = list(requirements.plain)
        for v in requirements.vcs:
            version = self._vcs_name(v).split("-")[1]
            lines += [f"--find-links {REMOTE}/vcs/{v.commit}", v.req.line(f"=={version}")]
        return "\n".join(lines) + "\n"

    def _fill_text(self, requirements: Requirements) -> str:
        """The set for ``pip wheel``: a VCS requirement is a direct reference to its wheel,
        so the index can never offer another build of the same version."""
        lines = list(requirements.plain)
        for v in requirements.vcs:
            lines.append(v.req.line(f" @ file://{REMOTE}/vcs/{v.commit}/{self._vcs_name(v)}"))
        return "\n".join(lines) + "\n"

    def _vcs_wheel(self, vcs: ResolvedVcs) -> Path | None:
        wheels = sorted((self.dir / "vcs" / vcs.commit).glob("*.whl"))
        return wheels[0] if wheels else None

    def _vcs_name(self, vcs: ResolvedVcs) -> str:
        wheel = self._vcs_wheel(vcs)
        assert wheel is not None, "a VCS requirement's wheel is built before it is named"
        return wheel.name

    def _build_vcs(self, node: Remote, vcs: ResolvedVcs, env: dict[str, str]) -> int:
        """Build one VCS requirement's wheel from the tree this host fetched."""
        src = f"{_VCS_SRC}/{vcs.commit}"
        wheels = f"{REMOTE}/vcs/{vcs.commit}"
        node.log(f"{vcs.req.name}: {vcs.req.shown_url}@{vcs.req.ref or 'HEAD'} = {vcs.commit}")
        with tempfile.TemporaryDirectory() as tmp:
            node.put_tar(vcs.archive(Path(tmp) / f"{vcs.commit}.tar"), src)
        node.run("rm -rf %s && %s/bin/pip wheel --disable-pip-version-check --no-cache-dir "
                 "--no-deps --find-links %s --wheel-dir %s %s", wheels, _TOOLS, REMOTE, wheels,
                 src, env=env, what=f"building {vcs.req.name} from {vcs.commit[:12]}")
        return self._bring_home(node, wheels, self.dir / "vcs" / vcs.commit)

    def _bring_home(self, node: Remote, remote: str, local: Path) -> int:
        """Fetch the wheels of ``remote`` that ``local`` lacks, each appearing whole."""
        local.mkdir(parents=True, exist_ok=True)
        listing = node.run("find %s -maxdepth 1 -type f \\( -name '*.whl' -o -name "
                           "'*.tar.gz' -o -name '*.zip' \\) -printf '%%f\\n'", remote,
                           what=f"listing {remote}").stdout
        have = {p.name for p in local.iterdir()}
        new = sorted(n for n in listing.split() if n not in have)
        if not new:
            return 0
        staging = Path(tempfile.mkdtemp(dir=self.dir.parent, prefix=".incoming-"))
        try:
            node.get_files(remote, new, staging)
            for path in staging.iterdir():
                os.replace(path, local / path.name)
        finally:
            for leftover in staging.iterdir():
                leftover.unlink()
            staging.rmdir()
        return len(new)

