"""Commands and file transfer on a node through its fabric Connection."""

from __future__ import annotations

import io
import shlex
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from fabric import Connection

from .errors import StageError
from .images import Log


class _LogStream(io.TextIOBase):
    """A text stream fabric writes remote output into, forwarded line by line to a log."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.log(line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.log(self.pending)
            self.pending = ""


def run(conn: Connection, command: str, log: Log, env: Mapping[str, str] | None = None,
        what: str | None = None) -> str:
    """Run ``command`` (bash -o pipefail) on the node, output into ``log``; StageError on
    failure. Environment values are exported before the command and never logged."""
    log(f"$ {command}")
    exports = "".join(f"export {k}={shlex.quote(v)}; " for k, v in (env or {}).items())
    stream = _LogStream(log)
    result = conn.run(f"bash -o pipefail -c {shlex.quote(exports + command)}", warn=True,
                      hide=True, out_stream=stream, err_stream=stream, in_stream=False)
    stream.flush()
    if result.exited != 0:
        raise StageError(f"{what or command.split()[0]} failed on the node "
                         f"(exit {result.exited})")
    return str(result.stdout)


def put_tree(conn: Connection, files: Mapping[str, Path], remote_dir: str, log: Log) -> None:
    """Copy local files and directories (remote names -> local paths) into ``remote_dir``."""
    with tempfile.NamedTemporaryFile(suffix=".tar") as handle:
        with tarfile.open(fileobj=handle, mode="w") as tar:
            for arcname, path in files.items():
                tar.add(path, arcname=arcname)
        handle.flush()
        put_tar(conn, Path(handle.name), remote_dir, log)


def put_tar(conn: Connection, tar_path: Path, remote_dir: str, log: Log) -> None:
    """Upload a tar file and unpack it into ``remote_dir``."""
    remote_tar = f"/tmp/st2pkg-upload-{tar_path.stem}.tar"
    log(f"uploading {tar_path.stat().st_size} bytes into {remote_dir}")
    conn.put(str(tar_path), remote_tar)
    run(conn, f"mkdir -p {shlex.quote(remote_dir)} && tar -xf {remote_tar} "
        f"-C {shlex.quote(remote_dir)} --no-same-owner && rm -f {remote_tar}", log,
        what="unpacking the upload")


def get_files(conn: Connection, remote_dir: str, names: list[str], dest: Path,
              log: Log) -> list[Path]:
    """Download ``names`` from ``remote_dir`` into ``dest`` (which must exist)."""
    paths = []
    for name in names:
        local = dest / name
        conn.get(f"{remote_dir.rstrip('/')}/{name}", str(local))
        log(f"downloaded {name} ({local.stat().st_size} bytes)")
        paths.append(local)
    return paths
