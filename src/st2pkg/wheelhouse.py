"""The host-side wheelhouse: one directory of wheels per distro and Python ABI (never mixed
across ABIs), plus a record of each requirement set known complete in it. A build node gets
the wheelhouse uploaded and installs with --no-index; only an unseen requirement set makes the
node fetch (with this host's pip settings), and only the new wheels come back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fabric import Connection

from .distros import Distro
from .images import Log, content_hash
from .pipenv import ca_file, pip_env
from .remote import get_files, put_tree, run

REMOTE = "/build/wheelhouse"
_TOOLS = "/build/pip-tools"
_CA = "/build/pip-ca.pem"


class Wheelhouse:
    """The wheelhouse of one distro's Python ABI."""

    def __init__(self, cache_dir: Path, distro: Distro) -> None:
        self.dir = cache_dir / "wheelhouse" / f"{distro.name}-{distro.python_abi}"
        self.sets = self.dir.with_name(self.dir.name + ".sets")
        self.python = f"python{distro.python}"
        self._uploaded = False

    def key(self, requirements: str) -> str:
        """The cache key of a requirement set (its exact text)."""
        return content_hash(requirements)

    def complete(self, requirements: str) -> bool:
        """Whether every wheel of this requirement set is already here."""
        return (self.sets / self.key(requirements)).is_file()

    def upload(self, conn: Connection, log: Log) -> None:
        """Put the whole wheelhouse on the node at /build/wheelhouse (once per node)."""
        if self._uploaded:
            return
        self._uploaded = True
        self.dir.mkdir(parents=True, exist_ok=True)
        run(conn, f"mkdir -p {REMOTE}", log)
        if any(self.dir.iterdir()):
            put_tree(conn, {".": self.dir}, REMOTE, log)

    def fill(self, conn: Connection, requirements: str, log: Log) -> int:
        """Build the missing wheels on the node and bring them home; returns how many."""
        reqs_remote = f"/build/requirements-{self.key(requirements)}.txt"
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "requirements.txt").write_text(requirements, encoding="utf-8")
            conn.put(str(Path(tmp) / "requirements.txt"), reqs_remote)
        env = pip_env()
        ca = ca_file()
        if ca is not None:
            conn.put(str(ca), _CA)
            env["PIP_CERT"] = _CA
        # The distro's bundled pip may be too old to build sdists into wheels.
        run(conn, f"test -x {_TOOLS}/bin/wheel || {{ {self.python} -m venv {_TOOLS} && "
            f"{_TOOLS}/bin/pip install --disable-pip-version-check -q --upgrade pip setuptools "
            f"wheel; }}", log, env=env, what="creating the pip tool venv")
        run(conn, f"{_TOOLS}/bin/pip wheel --disable-pip-version-check --no-cache-dir "
            f"--wheel-dir {REMOTE} --find-links {REMOTE} -r {reqs_remote}", log, env=env,
            what="pip wheel")
        listing = run(conn, f"ls -1 {REMOTE}", lambda _: None)
        have = {p.name for p in self.dir.iterdir()}
        new = sorted(n for n in listing.split() if n not in have)
        if new:
            staging = Path(tempfile.mkdtemp(dir=self.dir.parent, prefix=".incoming-"))
            try:
                get_files(conn, REMOTE, new, staging, log)
                for path in staging.iterdir():
                    os.replace(path, self.dir / path.name)
            finally:
                for leftover in staging.iterdir():
                    leftover.unlink()
                staging.rmdir()
        self.sets.mkdir(parents=True, exist_ok=True)
        marker = self.sets / self.key(requirements)
        marker.write_text(requirements, encoding="utf-8")
        log(f"wheelhouse {self.dir.name}: {len(new)} new wheels; requirement set "
            f"{marker.name} complete")
        return len(new)

