"""A static busybox for the runtime image: `sh` and `cp` in one ~1.9 MB file.

Taken from Debian's busybox-static package (downloaded with the host's apt, so no container
needs network) and cached; on other hosts set the ``busybox`` option to any static busybox.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import UnavailableError

PACKAGE = "busybox-static"


def _run(argv: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise UnavailableError(f"{argv[0]} is not installed: cannot fetch Debian's {PACKAGE}; "
                               "set the busybox option (ST2PKG_BUSYBOX) to a static "
                               "busybox binary") from err
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UnavailableError(f"{' '.join(argv)} failed ({said[0]}); run apt-get update, or "
                               "set the busybox option (ST2PKG_BUSYBOX) to a static busybox")


def static_busybox(cache: Path) -> Path:
    """Path of a static busybox under ``cache/busybox``, fetched once from Debian's archive."""
    dest = cache / "busybox" / "busybox"
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".tmp-") as tmp:
        work = Path(tmp)
        _run(["apt-get", "download", "--quiet", PACKAGE], cwd=work)
        debs = sorted(work.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            raise UnavailableError(f"apt-get download left no {PACKAGE} .deb in {work}")
        _run(["dpkg-deb", "--extract", str(debs[0]), "root"], cwd=work)
        binary = work / "root" / "bin" / "busybox"
        if not binary.is_file():
            raise UnavailableError(f"{debs[0].name} has no bin/busybox")
        staged = dest.parent / ".busybox.tmp"
        shutil.copy2(binary, staged)
        staged.replace(dest)
    return dest
